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
        var binary = RequireBinary();
        var workDir = Directory.CreateTempSubdirectory("neuralbuild-darknet-ops-");
        try
        {
            var start = new ProcessStartInfo(binary)
            {
                WorkingDirectory = workDir.FullName,
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
            };
            start.ArgumentList.Add("ops");
            start.ArgumentList.Add(cfgPath);
            using var process = Process.Start(start) ?? throw new InvalidOperationException($"Could not start {binary}.");

            // Read both pipes concurrently: darknet writes a lot to stderr ("Unused field: …").
            var stdout = process.StandardOutput.ReadToEndAsync();
            var stderr = process.StandardError.ReadToEndAsync();
            if (!process.WaitForExit(s_timeout))
            {
                process.Kill(entireProcessTree: true);
                process.WaitForExit();
                throw new AssertFailedException($"darknet ops {cfgPath} did not finish within {s_timeout}.");
            }

            process.WaitForExit();
            var output = stdout.Result + stderr.Result;
            var match = FigureLine().Match(stdout.Result);
            long? flops = match.Success ? long.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture) : null;
            return new DarknetOpsRun(process.ExitCode, output, flops);
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
