using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;

namespace NeuralBuild.Engine.Tests.Support;

/// <summary>What one run of the reference <c>darknet ops CFG</c> printed.</summary>
internal sealed record DarknetOpsRun(int ExitCode, string Output, long? Flops)
{
    public override string ToString() =>
        $"exit code {ExitCode}, figure {(Flops?.ToString(CultureInfo.InvariantCulture) ?? "none")}; last output:\n{Tail(Output)}";

    private static string Tail(string text) => string.Join('\n', text.Split('\n').TakeLast(8));
}

/// <summary>
/// Runs the reference implementation: Debian package <c>darknet</c> (pjreddie's fork), whose
/// <c>ops</c> command parses a cfg and prints <c>Floating Point Operations: N</c>.
/// </summary>
internal static partial class DarknetOps
{
    /// <summary>Where Debian installs it; PATH is searched too.</summary>
    private const string DebianBinary = "/usr/bin/darknet";

    private static readonly TimeSpan s_timeout = TimeSpan.FromMinutes(3);

    public const string InstallHint = "The darknet cross-check needs the reference implementation: install Debian package darknet (apt-get install darknet; .ci/run does).";

    /// <summary>The darknet executable, or null when it is not installed.</summary>
    public static string? Binary { get; } = Locate();

    public static string RequireBinary() => Binary ?? throw new AssertFailedException(InstallHint);

    /// <summary>
    /// Runs <c>darknet ops CFG</c> in a fresh temporary working directory (darknet resolves relative
    /// paths such as <c>tree=data/9k.tree</c> against it, and must not litter the checkout).
    /// </summary>
    public static DarknetOpsRun Run(string cfgPath)
    {
        var (exitCode, stdout, stderr) = Execute("ops", cfgPath);
        var match = FigureLine().Match(stdout);
        long? flops = match.Success ? long.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture) : null;
        return new DarknetOpsRun(exitCode, stdout + stderr, flops);
    }

    /// <summary>
    /// <c>darknet partial CFG WEIGHTS OUT 1000</c>: darknet loads the weights with its own reader
    /// and saves what it loaded (header 0.2.0, 64-bit <c>seen</c> reset to 0, then every layer's
    /// tensors in its own order), so the output shows where darknet found each value.
    /// </summary>
    public static byte[] Resave(string cfgPath, string weightsPath)
    {
        var output = Path.Combine(Path.GetDirectoryName(weightsPath)!, Path.GetFileNameWithoutExtension(weightsPath) + ".resaved.weights");
        var (exitCode, stdout, stderr) = Execute("partial", cfgPath, weightsPath, output, "1000");
        Assert.AreEqual(0, exitCode, $"darknet partial failed:\n{stdout}{stderr}");
        return File.ReadAllBytes(output);
    }

    private static (int ExitCode, string Stdout, string Stderr) Execute(params string[] arguments)
    {
        var binary = RequireBinary();
        var workDir = Directory.CreateTempSubdirectory("neuralbuild-darknet-");
        try
        {
            var start = new ProcessStartInfo(binary)
            {
                WorkingDirectory = workDir.FullName,
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
            };
            foreach (var argument in arguments)
            {
                start.ArgumentList.Add(argument);
            }

            using var process = Process.Start(start) ?? throw new InvalidOperationException($"Could not start {binary}.");

            // Read both pipes concurrently: darknet writes a lot to stderr ("Unused field: …").
            var stdout = process.StandardOutput.ReadToEndAsync();
            var stderr = process.StandardError.ReadToEndAsync();
            if (!process.WaitForExit(s_timeout))
            {
                process.Kill(entireProcessTree: true);
                process.WaitForExit();
                throw new AssertFailedException($"darknet {string.Join(' ', arguments)} did not finish within {s_timeout}.");
            }

            process.WaitForExit();
            return (process.ExitCode, stdout.Result, stderr.Result);
        }
        finally
        {
            workDir.Delete(recursive: true);
        }
    }

    private static string? Locate()
    {
        if (File.Exists(DebianBinary))
        {
            return DebianBinary;
        }

        var path = Environment.GetEnvironmentVariable("PATH") ?? string.Empty;
        return path.Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Select(dir => Path.Combine(dir, "darknet"))
            .FirstOrDefault(File.Exists);
    }

    [GeneratedRegex(@"^Floating Point Operations: (\d+)\s*$", RegexOptions.Multiline)]
    private static partial Regex FigureLine();
}
