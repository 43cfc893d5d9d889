using NeuralBuild.Engine.Diagnostics;
using NeuralBuild.Engine.Execution;
using NeuralBuild.Engine.Execution.Profiling;
using NeuralBuild.Engine.Formats;
using NeuralBuild.Engine.Ir;
using NeuralBuild.Engine.Passes;

namespace NeuralBuild.Engine.Pipeline;

/// <summary>One model to profile.</summary>
public sealed record ProfileRequest
{
    public required string DefinitionPath { get; init; }

    /// <summary>Weights; null: the format's default next to the definition.</summary>
    public string? WeightsPath { get; init; }

    public Shape? InputShape { get; init; }

    /// <summary>Options of the model's format as <c>name=value</c>.</summary>
    public IReadOnlyDictionary<string, string> FormatOptions { get; init; } = Formats.FormatOptions.None;

    public ProfileOptions Measurement { get; init; } = new();

    /// <summary>Also profile the model after the folds <c>fuse</c> would apply.</summary>
    public bool Fold { get; init; } = true;
}

/// <summary>The measured model as read, and after folding when asked.</summary>
public sealed record ModelProfile(string ModelPath, string InputShape, GraphProfile Before, GraphProfile? Folded, int FoldsApplied)
{
    public const int SchemaVersion = 1;
}

/// <summary>
/// Profiles a model on the reference executor (<see cref="LayerProfiler"/>) on the verifier's
/// seeded input: as read, then after the passes <c>fuse</c> runs (with the format's writer contract,
/// so exactly the folds the written model would have), in memory: no file is written.
/// </summary>
public static class ModelProfiler
{
    public static ModelProfile Profile(ProfileRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        var format = ModelFormats.ForPath(request.DefinitionPath);
        var weights = ModelOptimizer.RequireWeights(format, request.DefinitionPath, request.WeightsPath);
        var readOptions = format.WithFormatOptions(new ModelReadOptions { WeightsPath = weights, InputShape = request.InputShape }, request.FormatOptions, new SourceLocation(request.DefinitionPath));
        var model = FileFailures.Reading(request.DefinitionPath, () => format.Read(request.DefinitionPath, readOptions));
        // Seeded like the verifier's input; a second input gets the next seed.
        var inputs = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        foreach (var (name, shape) in model.Graph.Inputs)
        {
            inputs[name] = Verifier.RandomTensor(shape, Verifier.Seed + (ulong)inputs.Count);
        }

        var inputShape = string.Join(", ", model.Graph.Inputs.Values);

        var before = LayerProfiler.Measure(model.Graph, inputs, request.Measurement);
        if (!request.Fold)
        {
            return new ModelProfile(request.DefinitionPath, inputShape, before, null, 0);
        }

        var passes = PassManager.Run(model.Graph, writer: format.WriterContract);
        var folded = LayerProfiler.Measure(model.Graph, inputs, request.Measurement);
        return new ModelProfile(request.DefinitionPath, inputShape, before, folded, passes.Applied.Count());
    }
}
