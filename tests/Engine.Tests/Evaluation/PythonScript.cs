using System.Diagnostics;

namespace NeuralBuild.Engine.Tests.Evaluation;

/// <summary>
/// Runs a short Python script with Debian's python3 (numpy and PIL, installed by .ci/run): the
/// independent writer of the .npy files and images the evaluation readers are checked against.
/// </summary>
internal static class PythonScript
{
    /// <summary>Runs <paramref name="script"/> in <paramref name="directory"/>; returns its stdout, fails the test on a nonzero exit.</summary>
    public static string Run(string directory, string script)
    {
        var python = File.Exists("/usr/bin/python3") ? "/usr/bin/python3" : "python3";
        var start = new ProcessStartInfo(python) { RedirectStandardError = true, RedirectStandardOutput = true, WorkingDirectory = directory };
        start.ArgumentList.Add("-c");
        start.ArgumentList.Add(script);
        using var process = Process.Start(start)!;
        var stderr = process.StandardError.ReadToEndAsync();
        var stdout = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        return process.ExitCode == 0 ? stdout : throw new AssertFailedException($"python3 failed ({process.ExitCode}); .ci/run installs python3-numpy and python3-pil:\n{stderr.Result}");
    }
}
