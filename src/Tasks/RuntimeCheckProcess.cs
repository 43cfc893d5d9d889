using System.Diagnostics;
using System.Globalization;
using NeuralBuild.Engine.Pipeline;

namespace NeuralBuild.Tasks;

/// <summary>
/// Runs the package's runtime check (<c>tools/runtime-check/NeuralBuild.RuntimeCheck.dll</c>) as its
/// own process on a staged export: the runtime is native, and MSBuild nodes are long-lived, shared and
/// must never load it. The process takes the runtime's native library from the project's own
/// packages (<c>RuntimeLibraries</c>), so the check runs exactly the runtime version the app ships.
/// </summary>
internal static class RuntimeCheckProcess
{
    /// <summary>How the check ended and the one line it printed.</summary>
    public enum Outcome
    {
        Passed = 0,
        Failed = 1,
        Differs = 2,
        NoRuntime = 3,
    }

    /// <returns>The outcome, the check's first line (on success: "ONNX Runtime 1.32.0: max abs error 1.72E-05") and the rest (the verification summary).</returns>
    public static (Outcome Outcome, string Headline, string Detail) Run(string tool, OptimizeRequest request, string weights, OptimizeResult result, string stagedExport, IEnumerable<string> nativeLibraries)
    {
        var export = result.Export!;
        var arguments = new List<string>
        {
            tool,
            "--definition", request.DefinitionPath,
            "--weights", weights,
            "--format", request.ExportFormat!,
            "--export", stagedExport,
            "--input", export.InputName,
            "--atol", request.AbsoluteTolerance.ToString("R", CultureInfo.InvariantCulture),
            "--rtol", request.RelativeTolerance.ToString("R", CultureInfo.InvariantCulture),
        };
        foreach (var (name, value) in request.FormatOptions)
        {
            arguments.AddRange(["--option", $"{name}={value}"]);
        }

        if (request.InputShape is { } shape)
        {
            arguments.AddRange(["--input-shape", shape.ToString()]);
        }

        foreach (var (value, output) in export.Outputs)
        {
            arguments.AddRange(["--output", $"{value}={output}"]);
        }

        foreach (var library in nativeLibraries)
        {
            arguments.AddRange(["--native", library]);
        }

        if (export.Lossy)
        {
            // Quantized weights: the runtime's output error is measured, not checked for equality.
            arguments.AddRange(["--measure", "true"]);
            if (request.EvaluationInputs is { IsSynthetic: false } inputs)
            {
                // Measured on the same inputs as the read-back, prepared alike.
                var p = inputs.Preprocessing;
                arguments.AddRange(inputs.Files.SelectMany(f => new[] { "--evaluation-input", f }));
                arguments.AddRange(["--input-mean", Numbers(p.Mean), "--input-scale", Numbers(p.Scale), "--channel-order", p.Order.ToString(), "--resize", p.Resize.ToString()]);
            }
        }

        // The dotnet host running this build (set by the CLI for tasks), else the one on PATH.
        var host = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } path && File.Exists(path) ? path : "dotnet";
        var start = new ProcessStartInfo(host) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start) ?? throw new InvalidOperationException($"could not start '{host}'.");
        var stderr = process.StandardError.ReadToEndAsync();
        var stdout = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        var lines = stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var outcome = Enum.IsDefined((Outcome)process.ExitCode) ? (Outcome)process.ExitCode : Outcome.Failed;
        return lines.Length == 0 ? (outcome, stderr.Result.Trim(), string.Empty) : (outcome, lines[0], string.Join(' ', lines.Skip(1)));
    }

    /// <summary>Per-channel values as the process reads them back exactly (round-trip format).</summary>
    private static string Numbers(IEnumerable<float> values) => string.Join(',', values.Select(v => v.ToString("R", CultureInfo.InvariantCulture)));
}
