using NeuralBuild.Engine.Analysis;
using NeuralBuild.Engine.Diagnostics;
using NeuralBuild.Engine.Formats;
using NeuralBuild.Engine.Passes;

namespace NeuralBuild.Engine.Pipeline;

/// <summary>
/// Writes a model in another format: read, fold (unless asked not to, with each fold verified),
/// export, then read the exported file back with its format's reader and run it against the original
/// on the seeded input: the export is proven, not assumed. Everything goes into one
/// <see cref="OutputSet"/>; a refusal or a failed check leaves the previous output as it was.
/// </summary>
public static class ModelConverter
{
    public static ConvertResult Convert(ConvertRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        using var output = OutputSet.Begin(request.OutputDirectory);
        var result = Convert(request, output);
        output.Commit();
        return result;
    }

    /// <summary>Converts into <paramref name="output"/>'s staging folder; the caller adds its own members (a report) and commits.</summary>
    public static ConvertResult Convert(ConvertRequest request, OutputSet output)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(output);
        var where = new SourceLocation(request.DefinitionPath);
        var (target, exporter) = ModelFormats.ExportTarget(request.To, where);
        var source = ModelFormats.ForPath(request.DefinitionPath);
        var weights = request.WeightsPath ?? source.DefaultWeightsPath(request.DefinitionPath);
        var clock = PhaseClock.Start("read and analyse", request.Progress);
        var readOptions = source.WithFormatOptions(new ModelReadOptions { WeightsPath = weights, InputShape = request.InputShape }, request.FormatOptions, where);
        var model = FileFailures.Reading(request.DefinitionPath, () => source.Read(request.DefinitionPath, readOptions));
        var before = CostModel.Analyze(model);
        clock.Next("passes");

        var outputsBeforePasses = model.Graph.Outputs.ToList();
        var passes = request.Fold ? PassManager.Run(model.Graph, writer: exporter.Contract) : new PassReport();
        var foldVerification = request.Verify != VerifyMode.None && passes.Folds.Count > 0
            ? Verifier.VerifyFolds(passes, request.AbsoluteTolerance, request.RelativeTolerance)
            : null;
        clock.End();
        if (foldVerification is { Passed: false })
        {
            throw DiagnosticCodes.VerificationFailed.Exception(where, foldVerification.Summary());
        }

        var path = output.Stage(Path.GetFileNameWithoutExtension(request.DefinitionPath) + exporter.Extension);
        clock.Next("export, read back and verify");
        var step = ExportStep.Run(model, outputsBeforePasses, target, exporter, path, request.ExportOptions, where,
            request.Verify == VerifyMode.None ? null : () => FileFailures.Reading(request.DefinitionPath, () => source.Read(request.DefinitionPath, readOptions)),
            request.AbsoluteTolerance, request.RelativeTolerance, request.VerifyInputShape, new LossyExportCheck(request.MaxOutputError, request.EvaluationInputs, request.MinTop1Agreement));
        var (export, exported, exportVerification, exportAccuracy, notReadBack) = step;
        var after = AsStored(CostModel.Analyze(exported ?? model), export);
        clock.End();
        return new ConvertResult
        {
            OutputPath = output.Final(path),
            Export = export with { Files = [.. export.Files.Select(output.Final)] },
            Before = before,
            After = after,
            Passes = passes,
            FoldVerification = foldVerification,
            ExportVerification = exportVerification,
            NotReadBack = notReadBack,
            ExportAccuracy = exportAccuracy,
            Timings = clock.Phases,
        };
    }

    /// <summary>
    /// The written file's figures count the weights as it stores them: the read-back model holds a lossy
    /// export's weights decoded to float (the reader folds DequantizeLinear and Cast), so without this the
    /// int8 file would report float32 bytes. Each quantized weight's stored bytes (values, scales and zero
    /// points) replace its float ones, as the build's metrics do (<see cref="OptimizeResult"/>).
    /// </summary>
    private static ModelReport AsStored(ModelReport report, ModelExport export) => export.Lossy
        ? report with { Totals = report.Totals with { WeightsBytes = report.Totals.WeightsBytes - export.LossyWeights.Sum(w => w.OriginalBytes - w.WrittenBytes) } }
        : report;
}
