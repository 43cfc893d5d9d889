using System.Diagnostics;

namespace NeuralBuild.Tool.Tests.Support;

/// <summary>What one run of dotnet-neural printed and returned.</summary>
internal sealed record ToolRun(int ExitCode, string Stdout, string Stderr)
{
    public string[] StderrLines => Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.TrimEnd('\r')).ToArray();

    public override string ToString() => $"exit code {ExitCode}\nstdout:\n{Stdout}\nstderr:\n{Stderr}";
}

/// <summary>
/// Runs the built tool (dotnet-neural.dll, copied beside the tests by the project reference) in its
/// own process through the dotnet host, as <c>dotnet neural</c> runs it: exit codes, stdout and
/// stderr are then exactly what a user or a CI log sees.
/// </summary>
internal static class ToolProcess
{
    private static readonly TimeSpan s_timeout = TimeSpan.FromMinutes(2);

    public static string ToolDll { get; } = Path.Combine(AppContext.BaseDirectory, "dotnet-neural.dll");

    public static ToolRun Run(string workingDirectory, params string[] arguments)
    {
        Assert.IsTrue(File.Exists(ToolDll), $"{ToolDll} was not built next to the tests.");
        var start = new ProcessStartInfo(DotnetHost())
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(ToolDll);
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        start.Environment["DOTNET_NOLOGO"] = "1";
        // A person's machine, whatever runs the suite: in CI (CI=true) the tool refuses to accept baselines (NM0064).
        start.Environment.Remove("CI");
        start.Environment.Remove("ContinuousIntegrationBuild");
        using var process = Process.Start(start) ?? throw new InvalidOperationException("Could not start dotnet.");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(s_timeout))
        {
            process.Kill(entireProcessTree: true);
            process.WaitForExit();
            throw new AssertFailedException($"dotnet-neural {string.Join(' ', arguments)} did not finish within {s_timeout}.");
        }

        process.WaitForExit();
        return new ToolRun(process.ExitCode, stdout.Result, stderr.Result);
    }

    /// <summary>The dotnet host running the tests (the SDK sets DOTNET_HOST_PATH), else dotnet on PATH.</summary>
    private static string DotnetHost() =>
        Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host && File.Exists(host)
            ? host
            : Path.GetFileNameWithoutExtension(Environment.ProcessPath) == "dotnet" ? Environment.ProcessPath! : "dotnet";
}
