using System.CommandLine;
using NeuralBuild.Engine.Budgets;
using NeuralBuild.Engine.Diagnostics;
using NeuralBuild.Engine.Formats;
using NeuralBuild.Engine.Ir;
using NeuralBuild.Engine.Pipeline;
using NeuralBuild.Tool.Commands;

namespace NeuralBuild.Tool;

/// <summary>
/// What <c>check</c> and <c>baseline accept</c> share with the build: the model is optimised exactly
/// as the build's optimise step does (into a staging folder that is never committed and is deleted afterwards), and the
/// optimised model's metrics are what budgets and baselines see.
/// </summary>
internal sealed class ModelMeasurement
{
    public Argument<FileInfo> Model { get; } = CommonOptions.Model();

    public Option<FileInfo?> Weights { get; } = CommonOptions.Weights();

    public Option<string?> Input { get; } = new("--input") { Description = "Input shape N x C x H x W, e.g. 1x3x416x416 (default: the model's own)." };

    public Option<string?> Dialect { get; } = CommonOptions.Dialect();

    public Option<string[]> FormatOption { get; } = CommonOptions.FormatOption();

    public Option<VerifyMode> Verify { get; } = new("--verify") { Description = "None, Layers or Model.", DefaultValueFactory = _ => VerifyMode.Layers };

    public Option<string?> ModelVersion { get; } = new("--model-version") { Description = "SemVer of the model, as the ModelVersion metadata." };

    public void AddTo(Command command)
    {
        command.Arguments.Add(Model);
        foreach (var option in new Option[] { Weights, Input, Dialect, FormatOption, Verify, ModelVersion })
        {
            command.Options.Add(option);
        }
    }

    public NuGet.Versioning.NuGetVersion? Version(ParseResult parse)
    {
        var text = parse.GetValue(ModelVersion);
        if (string.IsNullOrWhiteSpace(text))
        {
            return null;
        }

        return NuGet.Versioning.NuGetVersion.TryParse(text, out var v) ? v
            : throw DiagnosticCodes.InvalidModelVersion.Exception(SourceLocation.None, $"--model-version '{text}' is not a SemVer version such as 1.2.0.");
    }

    /// <summary>Optimises into a discarded staging folder and returns the optimised model's metrics.</summary>
    public ModelMetrics Measure(ParseResult parse)
    {
        var definition = parse.GetValue(Model)!.FullName;
        var weights = parse.GetValue(Weights)?.FullName;
        var input = parse.GetValue(Input);
        var verify = parse.GetValue(Verify);
        var result = OptimizeDiscardingOutput(outputDirectory => new OptimizeRequest
        {
            DefinitionPath = definition,
            WeightsPath = weights,
            InputShape = string.IsNullOrWhiteSpace(input) ? null : Shape.Parse(input),
            FormatOptions = CommonOptions.FormatOptions(parse, Dialect, FormatOption),
            Verify = verify,
            OutputDirectory = outputDirectory,
        });
        return result.ToMetrics();
    }

    /// <summary>Optimises as the build does into a staging folder that is never committed: disposing the set deletes everything the run wrote.</summary>
    public static OptimizeResult OptimizeDiscardingOutput(Func<string, OptimizeRequest> request)
    {
        ArgumentNullException.ThrowIfNull(request);
        using var scratch = OutputSet.Begin(Path.Combine(Path.GetTempPath(), "dotnet-neural-" + Guid.NewGuid().ToString("N")[..12]));
        return ModelOptimizer.Optimize(request(scratch.TargetDirectory), scratch);
    }
}
