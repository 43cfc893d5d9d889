using NeuralBuild.Engine.Analysis;
using NeuralBuild.Engine.Budgets;
using NeuralBuild.Engine.Passes;

namespace NeuralBuild.Engine.Pipeline;

/// <summary>What <see cref="ModelOptimizer.Optimize(OptimizeRequest)"/> produced.</summary>
public sealed record OptimizeResult
{
    public required string OptimizedDefinitionPath { get; init; }

    public required string OptimizedWeightsPath { get; init; }

    /// <summary>The exported file (<see cref="OptimizeRequest.ExportFormat"/>): the optimised definition when the model is already in that format; null without export.</summary>
    public string? ExportPath { get; init; }

    /// <summary>What the export wrote; null without export or when the optimised definition is the export.</summary>
    public Formats.ModelExport? Export { get; init; }

    /// <summary>The export read back and run against the original; null when not checked.</summary>
    public VerificationReport? ExportVerification { get; init; }

    /// <summary>A lossy export (quantized weights) measured against the original; null otherwise or when not checked.</summary>
    public AccuracyReport? ExportAccuracy { get; init; }

    /// <summary>Per source layer of a lossy export, the output error its stored weights and its rounded activations (int8-static) cause alone (<see cref="Verifier.LayerOutputErrors"/>).</summary>
    public IReadOnlyDictionary<int, double> LayerOutputErrors { get; init; } = new Dictionary<int, double>();

    /// <summary>The source definition that was optimised.</summary>
    public string DefinitionPath { get; init; } = string.Empty;

    /// <summary>The source weights that were read (the definition itself for a single-file format).</summary>
    public string WeightsPath { get; init; } = string.Empty;

    public VerifyMode Verify { get; init; }

    /// <summary>The format options the model was read with, in their canonical spelling (recorded with its metrics).</summary>
    public IReadOnlyDictionary<string, string> FormatOptions { get; init; } = Formats.FormatOptions.None;

    /// <summary>Costs of the model as given.</summary>
    public required ModelReport Before { get; init; }

    /// <summary>Costs of the optimised model: the figures budgets are checked against.</summary>
    public required ModelReport After { get; init; }

    public PassReport Passes { get; init; } = new();

    /// <summary>Every warning the engine raised for this model (passes included): what the tool prints
    /// and the build reports (stored with the metrics and replayed on every build).</summary>
    public IReadOnlyList<Diagnostics.Diagnostic> Warnings => Passes.Warnings;

    /// <summary>Null when verification was off.</summary>
    public VerificationReport? Verification { get; init; }

    /// <summary>The edits asked for (<see cref="OptimizeRequest.Surgery"/>) checked against the source model; null without edits or verification.</summary>
    public VerificationReport? SurgeryVerification { get; init; }

    /// <summary>
    /// What the lossy passes (low-rank factorisation) cost, measured: the original and the optimised
    /// model run on the same seeded input, every model output and every layer output both still have
    /// compared. Never a failure; null when no lossy pass applied.
    /// </summary>
    public VerificationReport? LossyCost { get; init; }

    /// <summary>What <see cref="LossyCost"/> was measured on, in words: the request's evaluation inputs (each comparison at its worst input) or one seeded input.</summary>
    public string? LossyCostInputs { get; init; }

    /// <summary>Source layers the passes removed entirely (Dropout, a forward-folded BatchNorm, …), by index.</summary>
    public IReadOnlyList<int> RemovedLayers { get; init; } = [];

    /// <summary>Wall time of each phase, in order.</summary>
    public IReadOnlyList<(string Phase, TimeSpan Time)> Timings { get; init; } = [];

    /// <summary>One line per pass application or refusal, for reports and build logs.</summary>
    public IReadOnlyList<string> PassLog { get; init; } = [];

    /// <summary>
    /// The optimised model's metrics as the build keeps them and the tool checks them: the figures
    /// after optimisation (and before, for reports), the sources' hashes (a single-file model hashed
    /// once) and the settings that produced them.
    /// </summary>
    public ModelMetrics ToMetrics()
    {
        var definitionHash = FileHash.Sha256(DefinitionPath);
        var weightsHash = string.Equals(WeightsPath, DefinitionPath, StringComparison.Ordinal) ? definitionHash : FileHash.Sha256(WeightsPath);
        var metrics = ModelMetrics.FromReport(
            After,
            DefinitionPath,
            new Dictionary<string, string> { ["definition"] = definitionHash, ["weights"] = weightsHash },
            new Dictionary<string, string>(FormatOptions, StringComparer.Ordinal) { ["inputShape"] = After.InputShape, ["verify"] = Verify.ToString() },
            Before);
        return Export is { Lossy: true } export ? Compressed(metrics, export, ExportAccuracy, LayerOutputErrors) : metrics;
    }

    /// <summary>
    /// A lossy export is what ships, so its figures are the ones budgeted and recorded: each layer's
    /// weight bytes as the export stores them, the measured output error, and each layer's share of it.
    /// </summary>
    private static ModelMetrics Compressed(ModelMetrics metrics, Formats.ModelExport export, AccuracyReport? accuracy, IReadOnlyDictionary<int, double> layerErrors)
    {
        var saved = export.LossyWeights.GroupBy(w => w.Layer.Index).ToDictionary(g => g.Key, g => g.Sum(w => w.OriginalBytes - w.WrittenBytes));
        var layers = metrics.Layers.Select(l => l with
        {
            WeightsBytes = l.WeightsBytes - saved.GetValueOrDefault(l.Index),
            OutputError = layerErrors.TryGetValue(l.Index, out var error) ? error : null,
        }).ToList();
        var totals = new Dictionary<string, long>(metrics.Totals, StringComparer.Ordinal)
        {
            [BudgetMetric.WeightsSize.Key] = metrics.Value(BudgetMetric.WeightsSize) - saved.Values.Sum(),
        };
        return metrics with
        {
            Layers = layers,
            Totals = totals,
            Accuracy = accuracy is null ? null : new ModelAccuracy(
                string.Join(", ", export.LossyWeights.Select(w => w.Encoding).Distinct(StringComparer.Ordinal)
                    .Concat(export.QuantizedActivations.Count > 0 ? ["uint8 activations (calibrated)"] : [])),
                [.. accuracy.Outputs.Select(o => new OutputError(o.Output, o.MaxRelativeError, o.MeanRelativeError, o.Top1Agreement))])
            {
                MeasuredOn = accuracy.MeasuredOn,
            },
        };
    }
}
