using NeuralBuild.Engine.Analysis;
using NeuralBuild.Engine.Formats;
using NeuralBuild.Engine.Ir;
using NeuralBuild.Engine.Passes;

namespace NeuralBuild.Engine.Pipeline;

/// <summary>One model to write in another format (<see cref="ModelConverter"/>).</summary>
public sealed record ConvertRequest
{
    public required string DefinitionPath { get; init; }

    /// <summary>Weights; null: the format's default next to the definition.</summary>
    public string? WeightsPath { get; init; }

    public Shape? InputShape { get; init; }

    /// <summary>Options of the source format (<c>dialect=pjreddie</c>).</summary>
    public IReadOnlyDictionary<string, string> FormatOptions { get; init; } = Formats.FormatOptions.None;

    /// <summary>The target format's name (<see cref="ModelFormats.ExportTargets"/>).</summary>
    public required string To { get; init; }

    /// <summary>Options of the export (<c>opset=15</c>), checked by the target.</summary>
    public IReadOnlyDictionary<string, string> ExportOptions { get; init; } = Formats.FormatOptions.None;

    /// <summary>Fold BatchNorm/Scale and remove no-ops before exporting (the default), so the exported model is the optimised one.</summary>
    public bool Fold { get; init; } = true;

    /// <summary>
    /// <see cref="VerifyMode.None"/>: no check. Otherwise the folds are checked per layer and the exported
    /// file, read back by its format's reader, is run against the original on the seeded input.
    /// </summary>
    public VerifyMode Verify { get; init; } = VerifyMode.Model;

    public Shape? VerifyInputShape { get; init; }

    public double AbsoluteTolerance { get; init; } = 1e-5;

    public double RelativeTolerance { get; init; } = 1e-4;

    /// <summary>
    /// Budget of a lossy export (quantized weights): the largest relative output error allowed, as a fraction
    /// of the output's magnitude (0.02 for 2%); null: measured and reported, never failed. An exact export is
    /// proven equal instead.
    /// </summary>
    public double? MaxOutputError { get; init; }

    /// <summary>Budget of a lossy export's classifier outputs: the least share of items keeping the original's top-1 class (0.99 for 99%); null: measured, never failed.</summary>
    public double? MinTop1Agreement { get; init; }

    /// <summary>What a lossy export is measured on; null: the seeded synthetic input.</summary>
    public Evaluation.EvaluationInputs? EvaluationInputs { get; init; }

    public required string OutputDirectory { get; init; }

    /// <summary>Told as each phase starts and ends (the tool's progress, the build's stage messages); null: nobody.</summary>
    public IPipelineProgress? Progress { get; init; }
}

/// <summary>What <see cref="ModelConverter.Convert(ConvertRequest, OutputSet)"/> produced.</summary>
public sealed record ConvertResult
{
    /// <summary>The exported model file (its final path).</summary>
    public required string OutputPath { get; init; }

    public required ModelExport Export { get; init; }

    /// <summary>Costs of the model as given.</summary>
    public required ModelReport Before { get; init; }

    /// <summary>Costs of the exported file, read back (of the exported IR when it could not be read back).</summary>
    public required ModelReport After { get; init; }

    public PassReport Passes { get; init; } = new();

    /// <summary>The folds checked per layer; null when nothing was verified or folded.</summary>
    public VerificationReport? FoldVerification { get; init; }

    /// <summary>Why the exported file was not read back (NeuralBuild's reader refused it); null when it was.</summary>
    public string? NotReadBack { get; init; }

    /// <summary>The exported file read back and run against the original; null when verification was off.</summary>
    public VerificationReport? ExportVerification { get; init; }

    /// <summary>The measured output error of a lossy export read back (null for an exact one, which <see cref="ExportVerification"/> proves).</summary>
    public AccuracyReport? ExportAccuracy { get; init; }

    public IReadOnlyList<(string Phase, TimeSpan Time)> Timings { get; init; } = [];
}
