using NeuralBuild.Engine.Analysis;
using NeuralBuild.Engine.Diagnostics;
using NeuralBuild.Engine.Formats;
using NeuralBuild.Engine.Ir;
using NeuralBuild.Engine.Passes;
using NeuralBuild.Engine.Passes.Surgery;

namespace NeuralBuild.Engine.Pipeline;

/// <summary>
/// The one entry point the MSBuild task and every command that writes a model share: read, fold,
/// verify, write into an <see cref="OutputSet"/>'s staging folder, then re-read what was written
/// and analyse it, so the reported figures are those of the files actually shipped. The set
/// replaces the previous output as a unit, only once everything was written.
/// </summary>
public static class ModelOptimizer
{
    /// <summary>The weights a run needs (<paramref name="weightsPath"/>, else the format's default beside the definition); NM0001 when they do not exist.</summary>
    internal static string RequireWeights(IModelFormat format, string definitionPath, string? weightsPath)
    {
        var weights = weightsPath ?? format.DefaultWeightsPath(definitionPath);
        if (!File.Exists(weights))
        {
            throw DiagnosticCodes.FileNotFound.Exception(new SourceLocation(definitionPath),
                $"Weights '{weights}' for '{Path.GetFileName(definitionPath)}' do not exist; set the Weights metadata or place them next to the definition.");
        }

        return weights;
    }

    /// <summary>Optimises into <see cref="OptimizeRequest.OutputDirectory"/>, replacing its previous output set as a unit.</summary>
    public static OptimizeResult Optimize(OptimizeRequest request)
    {
        using var output = OutputSet.Begin(request.OutputDirectory);
        var result = Optimize(request, output);
        output.Commit();
        return result;
    }

    /// <summary>
    /// Optimises into <paramref name="output"/>'s staging folder; the caller adds its own members
    /// (a report, metrics) and commits. The result names the files' final paths.
    /// </summary>
    public static OptimizeResult Optimize(OptimizeRequest request, OutputSet output)
    {
        var format = ModelFormats.ForPath(request.DefinitionPath);
        var weights = RequireWeights(format, request.DefinitionPath, request.WeightsPath);

        var clock = PhaseClock.Start("read and analyse", request.Progress);
        var readOptions = format.WithFormatOptions(new ModelReadOptions { WeightsPath = weights, InputShape = request.InputShape }, request.FormatOptions, new SourceLocation(request.DefinitionPath));
        var model = FileFailures.Reading(request.DefinitionPath, () => format.Read(request.DefinitionPath, readOptions));
        var before = CostModel.Analyze(model);
        var where = new SourceLocation(request.DefinitionPath);
        Model ReadSource() => FileFailures.Reading(request.DefinitionPath, () => format.Read(request.DefinitionPath, readOptions));

        // The edits asked for (a class subset, a cut, renames) come first and once; from then on the
        // edited model is "the original" that the folds are verified against.
        if (request.Surgery is { IsEmpty: false })
        {
            clock.Next("edit and verify the edit");
        }

        var surgery = request.Surgery is { IsEmpty: false } edits ? edits.Apply(model.Graph, format.WriterContract, where) : null;
        (Model Model, SurgeryResult? Surgery) ReadEdited()
        {
            var source = ReadSource();
            return (source, request.Surgery is { IsEmpty: false } again ? again.Apply(source.Graph, format.WriterContract, where) : null);
        }

        VerificationReport? surgeryVerification = null;
        if (surgery is not null && request.Verify != VerifyMode.None)
        {
            var (edited, editedSurgery) = ReadEdited();
            surgeryVerification = Verifier.VerifySurgery(ReadSource(), edited, editedSurgery!, request.AbsoluteTolerance, request.RelativeTolerance, request.VerifyInputShape);
        }

        if (surgeryVerification is { Passed: false })
        {
            throw DiagnosticCodes.VerificationFailed.Exception(where, "the edited model: " + surgeryVerification.Summary());
        }

        clock.Next("passes");
        var outputsBeforePasses = model.Graph.Outputs.ToList();
        List<GraphPass> passList = request.Fold ? [.. PassManager.Default] : [];
        if (request.PruneDeadChannels)
        {
            passList.Add(new PruneDeadChannels());
        }

        if (request.LowRankFc is { } lowRank)
        {
            passList.Add(new LowRankFullyConnected(lowRank));
        }

        var passes = PassManager.Run(model.Graph, passList, format.WriterContract);
        if (surgery is not null)
        {
            passes.Events.InsertRange(0, surgery.Report.Events);
            passes.Warnings.InsertRange(0, surgery.Report.Warnings);
        }

        var remaining = model.Graph.Nodes.Select(n => n.Origin.Index).ToHashSet();
        var removed = before.Layers.Select(l => l.Index).Where(i => !remaining.Contains(i)).ToList();
        clock.Next("verify");

        // Pruning changes the model as a whole (a channel leaves every layer it flows through), so a
        // pruned model is verified whole even when the folds alone would be checked one by one.
        // A lossy rewrite (low rank) cannot be verified whole: the folds are checked one by one and the
        // whole-model comparison becomes a measurement of the cost (LossyCost).
        var pruned = passes.Pruning.Count > 0;
        var lossy = passes.LowRank.Count > 0;
        Model ReadOriginal() => ReadEdited().Model;
        var verification = request.Verify switch
        {
            VerifyMode.Layers or VerifyMode.Model when lossy => Verifier.VerifyFolds(passes, request.AbsoluteTolerance, request.RelativeTolerance),
            VerifyMode.Layers when !pruned => Verifier.VerifyFolds(passes, request.AbsoluteTolerance, request.RelativeTolerance),
            VerifyMode.Layers or VerifyMode.Model => Verifier.VerifyModels(ReadOriginal(), model, request.AbsoluteTolerance, request.RelativeTolerance, request.VerifyInputShape),
            _ => null,
        };
        var lossyCost = lossy ? Verifier.VerifyModels(ReadOriginal(), model, request.AbsoluteTolerance, request.RelativeTolerance, request.VerifyInputShape, floorFactor: 0, request.EvaluationInputs) : null;
        clock.End();
        if (verification is { Passed: false })
        {
            throw DiagnosticCodes.VerificationFailed.Exception(new SourceLocation(request.DefinitionPath), verification.Summary());
        }

        clock.Next("write");
        var outDefinition = output.Stage(Path.GetFileName(request.DefinitionPath));
        // Named after the definition, so the format's weights-by-convention rule finds them.
        var outWeights = format.DefaultWeightsPath(outDefinition);
        format.Write(model, outDefinition, outWeights);
        clock.Next("re-read and analyse");

        var written = FileFailures.Reading(outDefinition, () => format.Read(outDefinition, readOptions with { WeightsPath = outWeights }));
        var after = CostModel.Analyze(written);
        clock.End();

        string? exportPath = null;
        ModelExport? export = null;
        VerificationReport? exportVerification = null;
        AccuracyReport? exportAccuracy = null;
        IReadOnlyDictionary<int, double> layerErrors = new Dictionary<int, double>();
        if (request.ExportFormat is { } exportFormat)
        {
            var (target, exporter) = ModelFormats.ExportTarget(exportFormat, where);
            exportPath = outDefinition;
            if (target.Name != format.Name)
            {
                exportPath = output.Stage(Path.GetFileNameWithoutExtension(request.DefinitionPath) + exporter.Extension);
                clock.Next("export, read back and verify");
                // A lossy export is measured here and budgeted by the check step (MaxOutputError), which
                // runs on every build: a budget changed with -p: needs no new measurement (MinTop1Agreement alike).
                (export, _, exportVerification, exportAccuracy, _) = ExportStep.Run(model, outputsBeforePasses, target, exporter, exportPath, request.ExportOptions, where,
                    request.Verify == VerifyMode.None ? null : ReadOriginal,
                    request.AbsoluteTolerance, request.RelativeTolerance, request.VerifyInputShape, new LossyExportCheck(MaxOutputError: null, request.EvaluationInputs));
                if (export.Lossy && request.Verify != VerifyMode.None)
                {
                    clock.Next("output error per quantized layer");
                    layerErrors = Verifier.LayerOutputErrors(model, export.LossyWeights, export.QuantizedActivations, request.VerifyInputShape, request.EvaluationInputs);
                }

                clock.End();
            }
        }

        return new OptimizeResult
        {
            FormatOptions = readOptions.FormatOptions,
            DefinitionPath = request.DefinitionPath,
            WeightsPath = weights,
            Verify = request.Verify,
            OptimizedDefinitionPath = output.Final(outDefinition),
            OptimizedWeightsPath = output.Final(outWeights),
            ExportPath = exportPath is null ? null : output.Final(exportPath),
            Export = export is null ? null : export with { Files = [.. export.Files.Select(output.Final)] },
            ExportVerification = exportVerification,
            ExportAccuracy = exportAccuracy,
            LayerOutputErrors = layerErrors,
            Before = before,
            After = after,
            RemovedLayers = removed,
            Timings = clock.Phases,
            Passes = passes,
            Verification = verification,
            SurgeryVerification = surgeryVerification,
            LossyCost = lossyCost,
            LossyCostInputs = lossyCost is null ? null
                : request.EvaluationInputs is { IsSynthetic: false } given ? $"{given.Describe()}, each figure at its worst input" : "a seeded input",
            PassLog = [.. passes.Events.Select(e => e.ToString())],
        };
    }
}
