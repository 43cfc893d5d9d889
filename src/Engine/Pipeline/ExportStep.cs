using NeuralBuild.Engine.Diagnostics;
using NeuralBuild.Engine.Formats;
using NeuralBuild.Engine.Ir;

namespace NeuralBuild.Engine.Pipeline;

/// <summary>
/// Export and its proof, shared by <see cref="ModelConverter"/> and <see cref="ModelOptimizer"/>: the
/// model is written by the target's exporter, read back by the target's reader, and (when an original
/// is given) the file read back is run against the original on the seeded input. A difference beyond
/// the rounding floor is NM0041.
/// </summary>
internal static class ExportStep
{
    /// <param name="model">The model to export, after passes.</param>
    /// <param name="outputsBeforePasses">The model's outputs before the passes ran: a fold can move an output to another value (a conv's, once its BatchNorm folded), and the export's outputs are compared with the original's by position.</param>
    /// <param name="target">The export's format.</param>
    /// <param name="exporter">Its exporter.</param>
    /// <param name="path">Where the export goes.</param>
    /// <param name="options">The export's options.</param>
    /// <param name="where">Where errors point.</param>
    /// <param name="readOriginal">Reads the original model again; null: the export is not checked.</param>
    /// <param name="atol">Absolute tolerance.</param>
    /// <param name="rtol">Relative tolerance.</param>
    /// <param name="verifyInputShape">The check's input (null: the model's).</param>
    /// <param name="lossy">How a lossy export (quantized weights) is checked: its error is measured, against the budget it holds if any; its inputs also calibrate an export that quantizes activations.</param>
    /// <returns>
    /// The export, whose outputs name the original's values; the file read back; the equality check of an
    /// exact export, or the measurement of a lossy one. A file NeuralBuild's own reader does not take
    /// (an operator it does not run, such as the Where of an exported xnor layer) is not read back: the
    /// result says why, and the runtime's check is then the proof.
    /// </returns>
    public static ExportStepResult Run(
        Model model, IReadOnlyList<string> outputsBeforePasses, IModelFormat target, IModelExporter exporter, string path, IReadOnlyDictionary<string, string> options, SourceLocation where,
        Func<Model>? readOriginal, double atol, double rtol, Shape? verifyInputShape, LossyExportCheck lossy)
    {
        // Static activation quantization: the ranges of the values it asks for, measured on the model it exports.
        var calibrated = exporter.CalibratedValues(model, options);
        var calibration = calibrated.Count > 0 ? ActivationCalibration.Measure(model, calibrated, lossy.Inputs) : null;
        var export = exporter.Export(model, path, options, where, calibration);

        export = export with { Outputs = [.. export.Outputs.Select(o => (OriginalValue(model.Graph.Outputs, outputsBeforePasses, o.Value), o.Output))] };
        Model exported;
        try
        {
            exported = FileFailures.Reading(path, () => target.Read(path, new ModelReadOptions { WeightsPath = target.DefaultWeightsPath(path) }));
        }
        catch (NeuralException e)
        {
            return new ExportStepResult(export, null, null, null, e.Diagnostic.ToString());
        }

        if (readOriginal is null)
        {
            return new ExportStepResult(export, exported, null, null, null);
        }

        using var readBack = new ReferenceRuntime(exported, $"{target.DisplayName} export read back");
        if (export.Lossy)
        {
            var accuracy = Verifier.MeasureRuntime(readOriginal(), readBack, export.InputName, export.Outputs, export.LossyWeights, lossy.MaxOutputError, verifyInputShape, lossy.Inputs, lossy.MinTop1Agreement);
            accuracy.ThrowIfOverBudget(where, () => Verifier.LayerContributions(model, export.LossyWeights, export.QuantizedActivations, verifyInputShape, lossy.Inputs));
            return new ExportStepResult(export, exported, null, accuracy, null);
        }

        var check = Verifier.VerifyRuntime(readOriginal(), readBack, export.InputName, export.Outputs, atol, rtol, verifyInputShape);
        return check.Passed ? new ExportStepResult(export, exported, check, null, null) : throw DiagnosticCodes.VerificationFailed.Exception(where, check.Summary());
    }

    private static string OriginalValue(List<string> outputs, IReadOnlyList<string> outputsBeforePasses, string value)
    {
        var position = outputs.Count == outputsBeforePasses.Count ? outputs.IndexOf(value) : -1;
        return position >= 0 ? outputsBeforePasses[position] : value;
    }
}

/// <summary>What <see cref="ExportStep.Run"/> wrote and proved; <paramref name="NotReadBack"/> is why the file was not read back (null when it was).</summary>
public sealed record ExportStepResult(ModelExport Export, Model? Exported, VerificationReport? Check, AccuracyReport? Accuracy, string? NotReadBack);

/// <summary>
/// A lossy export is measured on <see cref="Inputs"/> (null: the seeded input), and fails only over
/// <see cref="MaxOutputError"/> or under <see cref="MinTop1Agreement"/> (fractions; null: measured, no budget).
/// </summary>
public sealed record LossyExportCheck(double? MaxOutputError, Evaluation.EvaluationInputs? Inputs = null, double? MinTop1Agreement = null);
