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
    public static (ModelExport Export, Model Exported, VerificationReport? Check) Run(
        Model model, IModelFormat target, IModelExporter exporter, string path, IReadOnlyDictionary<string, string> options, SourceLocation where,
        Func<Model>? readOriginal, double atol, double rtol, Shape? verifyInputShape)
    {
        var export = exporter.Export(model, path, options, where);
        var exported = FileFailures.Reading(path, () => target.Read(path, new ModelReadOptions { WeightsPath = target.DefaultWeightsPath(path) }));
        if (readOriginal is null)
        {
            return (export, exported, null);
        }

        using var readBack = new ReferenceRuntime(exported, $"{target.DisplayName} export read back");
        var check = Verifier.VerifyRuntime(readOriginal(), readBack, export.InputName, export.Outputs, atol, rtol, verifyInputShape);
        return check.Passed ? (export, exported, check) : throw DiagnosticCodes.VerificationFailed.Exception(where, check.Summary());
    }
}
