using NeuralBuild.Engine.Ir;

namespace NeuralBuild.Engine.Pipeline;

/// <summary>How thoroughly the optimised model is proven equal to the original.</summary>
public enum VerifyMode
{
    None,

    /// <summary>Each fold checked on a random input patch (cheap, independent of model size).</summary>
    Layers,

    /// <summary>The whole original and optimised model run on the same seeded input.</summary>
    Model,
}

/// <summary>One model to optimise and where to put the result.</summary>
public sealed record OptimizeRequest
{
    public required string DefinitionPath { get; init; }

    /// <summary>Weights; null: the format's default next to the definition.</summary>
    public string? WeightsPath { get; init; }

    public Shape? InputShape { get; init; }

    /// <summary>Options of the model's format as <c>name=value</c> (<see cref="Formats.IModelFormat.Options"/>); the format parses and checks them.</summary>
    public IReadOnlyDictionary<string, string> FormatOptions { get; init; } = Formats.FormatOptions.None;

    public VerifyMode Verify { get; init; } = VerifyMode.Layers;

    /// <summary>
    /// Runs <see cref="Passes.PruneDeadChannels"/> after the folds: channels whose output is provably
    /// constant leave their producers and consumers. The change is not local to a fold, so whenever
    /// verification is on, the whole pruned model is verified against the original (as <see cref="VerifyMode.Model"/> does).
    /// </summary>
    public bool PruneDeadChannels { get; init; }

    /// <summary>
    /// Runs <see cref="Passes.LowRankFullyConnected"/> with this target (null: not at all). Lossy: the
    /// folds are then verified one by one (unless <see cref="Verify"/> is None) and the whole model is
    /// run against the original to measure what the factorisation costs (<see cref="OptimizeResult.LossyCost"/>).
    /// </summary>
    public Passes.LowRankTarget? LowRankFc { get; init; }

    /// <summary>Runs the lossless folds (<see cref="Passes.PassManager.Default"/>); false writes the model as edited only (<c>classes</c>, <c>edit</c>).</summary>
    public bool Fold { get; init; } = true;

    /// <summary>
    /// Edits to make before the folds (<see cref="Passes.Surgery.ModelSurgery"/>: a class subset, new
    /// outputs, renames); null: none. Unless <see cref="Verify"/> is None the edited model is checked
    /// against the source (kept classes channel by channel, outputs by name), and the folds against the edited model.
    /// </summary>
    public Passes.Surgery.ModelSurgery? Surgery { get; init; }

    /// <summary>Input for <see cref="VerifyMode.Model"/>; null: the model's input. Fully convolutional
    /// models may be checked smaller (a multiple of the network stride) to save time.</summary>
    public Shape? VerifyInputShape { get; init; }

    /// <summary>Absolute tolerance of verification: |a-b| &lt;= atol + rtol*|b|.</summary>
    public double AbsoluteTolerance { get; init; } = 1e-5;

    public double RelativeTolerance { get; init; } = 1e-4;

    /// <summary>An export target's name (<see cref="Formats.ModelFormats.ExportTargets"/>): the optimised model is also written in that format, read back and checked. Null: no export.</summary>
    public string? ExportFormat { get; init; }

    /// <summary>Options of the export (<c>opset=15</c>).</summary>
    public IReadOnlyDictionary<string, string> ExportOptions { get; init; } = Formats.FormatOptions.None;

    /// <summary>What a lossy export is measured on (its accuracy, kept with the metrics); null: the seeded synthetic input.</summary>
    public Evaluation.EvaluationInputs? EvaluationInputs { get; init; }

    /// <summary>Folder that receives the optimised definition and weights (created if missing), as one
    /// output set that replaces the previous one as a unit (<see cref="Formats.OutputSet"/>).</summary>
    public required string OutputDirectory { get; init; }

    /// <summary>Told as each phase starts and ends (the tool's progress, the build's stage messages); null: nobody.</summary>
    public IPipelineProgress? Progress { get; init; }
}
