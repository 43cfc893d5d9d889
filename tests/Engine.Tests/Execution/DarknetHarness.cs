using System.Diagnostics;
using System.Globalization;

namespace NeuralBuild.Engine.Tests.Execution;

/// <summary>
/// darknet-harness.c compiled against the installed libdarknet (Debian package darknet) with gcc,
/// once per test run, and run as a child process: libdarknet's own forward pass, for comparison.
/// Missing gcc or libdarknet is a failure, not a skip: CI installs both (.ci/run).
/// </summary>
internal static class DarknetHarness
{
    public const string IncludeDir = "/usr/lib/darknet/include";
    public const string LibraryDir = "/usr/lib/darknet";

    private static readonly Lazy<string> s_binary = new(Compile, LazyThreadSafetyMode.ExecutionAndPublication);

    public static string Source => Path.Combine(TestPaths.RepoRoot, "tests", "Engine.Tests", "Execution", "darknet-harness.c");

    /// <summary>The compiled harness; fails the calling test with the reason when it cannot be built.</summary>
    public static string Binary
    {
        get
        {
            try
            {
                return s_binary.Value;
            }
            catch (InvalidOperationException e)
            {
                Assert.Fail(e.Message);
                throw;
            }
        }
    }

    /// <summary>Runs the harness; returns each reported layer's output by layer index.</summary>
    public static Dictionary<int, float[]> Run(string cfg, string weights, float[] input, string workDir, string? layers = null)
    {
        var inputPath = Path.Combine(workDir, "input.bin");
        var outputPath = Path.Combine(workDir, "darknet-output.bin");
        WriteFloats(inputPath, input);
        List<string> args = [cfg, weights, inputPath, outputPath, "0"];
        if (layers is not null)
        {
            args.Add(layers);
        }

        var (exitCode, _, stderr) = Execute(Binary, args, TimeSpan.FromMinutes(5));
        if (exitCode != 0)
        {
            Assert.Fail($"darknet-harness exited with {exitCode} on {cfg}:\n{Tail(stderr)}");
        }

        return ReadOutputs(outputPath);
    }

    /// <summary>Times <paramref name="iterations"/> forward passes inside the harness (network_predict only).</summary>
    public static double[] Time(string cfg, string weights, float[] input, string workDir, int iterations)
    {
        var inputPath = Path.Combine(workDir, "input.bin");
        WriteFloats(inputPath, input);
        var (exitCode, stdout, stderr) = Execute(Binary, [cfg, weights, inputPath, Path.Combine(workDir, "darknet-output.bin"), iterations.ToString(CultureInfo.InvariantCulture)], TimeSpan.FromMinutes(10));
        if (exitCode != 0)
        {
            Assert.Fail($"darknet-harness exited with {exitCode}:\n{Tail(stderr)}");
        }

        return [.. stdout.Split('\n').Where(l => l.StartsWith("forward_ms ", StringComparison.Ordinal))
            .Select(l => double.Parse(l["forward_ms ".Length..], CultureInfo.InvariantCulture))];
    }

    public static void WriteFloats(string path, float[] values)
    {
        var bytes = new byte[values.Length * sizeof(float)];
        Buffer.BlockCopy(values, 0, bytes, 0, bytes.Length);
        File.WriteAllBytes(path, bytes);
    }

    private static Dictionary<int, float[]> ReadOutputs(string path)
    {
        using var reader = new BinaryReader(File.OpenRead(path));
        var count = reader.ReadInt32();
        var outputs = new Dictionary<int, float[]>();
        for (var i = 0; i < count; i++)
        {
            var layer = reader.ReadInt32();
            var values = new float[reader.ReadInt32()];
            var bytes = reader.ReadBytes(values.Length * sizeof(float));
            Buffer.BlockCopy(bytes, 0, values, 0, bytes.Length);
            outputs[layer] = values;
        }

        return outputs;
    }

    private static string Compile()
    {
        var missing = new List<string>();
        if (!File.Exists(Path.Combine(IncludeDir, "darknet.h")) || !File.Exists(Path.Combine(LibraryDir, "libdarknet.so")))
        {
            missing.Add($"libdarknet ({IncludeDir}/darknet.h, {LibraryDir}/libdarknet.so: Debian package 'darknet')");
        }

        var directory = Path.Combine(Path.GetTempPath(), $"neuralbuild-darknet-harness-{Environment.ProcessId}");
        Directory.CreateDirectory(directory);
        var binary = Path.Combine(directory, "darknet-harness");
        (int ExitCode, string StdOut, string StdErr) result;
        try
        {
            result = Execute("gcc", ["-O2", "-o", binary, Source, $"-I{IncludeDir}", $"-L{LibraryDir}", "-ldarknet", $"-Wl,-rpath,{LibraryDir}"], TimeSpan.FromMinutes(2));
        }
        catch (System.ComponentModel.Win32Exception)
        {
            missing.Add("gcc (Debian package 'gcc')");
            result = (-1, string.Empty, string.Empty);
        }

        if (missing.Count > 0)
        {
            throw new InvalidOperationException($"The libdarknet cross-check needs {string.Join(" and ", missing)}; install them (CI's .ci/run does) — this check is never skipped.");
        }

        return result.ExitCode == 0
            ? binary
            : throw new InvalidOperationException($"gcc could not build {Source} against libdarknet:\n{Tail(result.StdErr)}");
    }

    private static (int ExitCode, string StdOut, string StdErr) Execute(string file, IEnumerable<string> args, TimeSpan timeout)
    {
        var start = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        using var process = Process.Start(start) ?? throw new InvalidOperationException($"Could not start {file}.");

        // Both streams are drained concurrently: libdarknet writes a line per layer to stderr.
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(timeout))
        {
            process.Kill(entireProcessTree: true);
            Assert.Fail($"{file} did not finish within {timeout}.");
        }

        process.WaitForExit();
        return (process.ExitCode, stdout.Result, stderr.Result);
    }

    private static string Tail(string text) => text.Length <= 4000 ? text : "…" + text[^4000..];
}
