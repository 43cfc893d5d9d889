using System.CommandLine;
using System.Globalization;
using System.Text;
using NeuralBuild.Engine.Analysis;
using NeuralBuild.Engine.Formats;
using NeuralBuild.Engine.Diagnostics;
using NeuralBuild.Engine.Passes;
using NeuralBuild.Engine.Pipeline;

namespace NeuralBuild.Tool.Commands;

/// <summary>
/// <c>dotnet neural fuse MODEL --output DIR [--weights FILE] [--dialect …] [--option name=value] [--verify none|layers|model] [--prune-dead-channels] [--low-rank-fc 0.99|rank:N]</c>:
/// writes the optimised definition and weights (for ONNX one .onnx file, plus NAME.onnx.data when the
/// source kept its weights as external data), and a report of folds applied and refused, layers
/// removed, channels pruned (per layer: channels, params, MACC and weight bytes saved), and the figures before and after.
/// </summary>
internal static class FuseCommand
{
    public const string ReportFileName = "fuse-report.md";

    public static Command Create()
    {
        var model = CommonOptions.Model();
        var output = new Option<DirectoryInfo>("--output", "-o") { Description = "Folder for the optimised model and fuse-report.md.", Required = true };
        var weights = CommonOptions.Weights();
        var input = CommonOptions.Input();
        var dialect = CommonOptions.Dialect();
        var formatOption = CommonOptions.FormatOption();
        var verify = CommonOptions.Verify(VerifyMode.Layers);
        var atol = CommonOptions.AbsoluteTolerance();
        var rtol = CommonOptions.RelativeTolerance();
        var verifyInput = new Option<string?>("--verify-input") { Description = "Smaller input for --verify model (fully convolutional models), e.g. 1x3x160x160." };
        var lowRankFc = new Option<string?>("--low-rank-fc") { Description = "Also write each fully connected layer as two thinner ones (truncated SVD) where that saves parameters: 0.99 keeps 99% of the spectrum's energy, rank:N a fixed rank. Lossy: the output difference is measured and reported." };
        var pruneDeadChannels = new Option<bool>("--prune-dead-channels") { Description = "Also remove channels whose output is provably constant (a BatchNorm scale of 0, an all-zero filter), losslessly; the pruned model is verified whole against the original." };
        var format = CommonOptions.Format(CommonOptions.TableOrJson);
        format.Description = "table: fuse-report.md (and stdout) in Markdown; json: fuse-report.json, schemaVersion first.";
        var command = new Command("fuse", "Fold BatchNorm/Scale into conv and FC layers, remove Dropout, verify, and write the optimised model.")
        {
            model, output, weights, input, dialect, formatOption, verify, atol, rtol, verifyInput, pruneDeadChannels, lowRankFc, format,
        };
        var evaluation = new EvaluationOptions();
        evaluation.AddTo(command, withAgreementBudget: false);
        command.SetAction(parse => CommandRunner.Run(parse, () =>
        {
            var outputDirectory = parse.GetValue(output)!.FullName;
            // The report is a member of the output set: it never describes files it was not written with.
            using var set = OutputSet.Begin(outputDirectory);
            using var progress = ConsoleProgress.ForConsole(parse.GetValue(model)!.FullName);
            var result = ModelOptimizer.Optimize(
                new OptimizeRequest
                {
                    DefinitionPath = parse.GetValue(model)!.FullName,
                    WeightsPath = parse.GetValue(weights)?.FullName,
                    InputShape = CommonOptions.ParseShape(parse.GetValue(input)),
                    FormatOptions = CommonOptions.FormatOptions(parse, dialect, formatOption),
                    Verify = parse.GetValue(verify),
                    AbsoluteTolerance = parse.GetValue(atol),
                    RelativeTolerance = parse.GetValue(rtol),
                    VerifyInputShape = CommonOptions.ParseShape(parse.GetValue(verifyInput)),
                    PruneDeadChannels = parse.GetValue(pruneDeadChannels),
                    LowRankFc = parse.GetValue(lowRankFc) is { } target ? LowRankTarget.Parse(target, new SourceLocation(parse.GetValue(model)!.FullName)) : null,
                    EvaluationInputs = evaluation.Inputs(parse),
                    OutputDirectory = outputDirectory,
                    Progress = progress,
                },
                set);
            return parse.GetValue(format) == "json"
                ? ReportText.Publish(set, Path.ChangeExtension(ReportFileName, ".json"), PipelineJson.Fuse(result), result.Warnings)
                : ReportText.Publish(set, ReportFileName, Report(result), result.Warnings);
        }));
        return command;
    }

    internal static string Report(OptimizeResult result)
    {
        var sb = new StringBuilder();
        sb.Append(CultureInfo.InvariantCulture, $"# fuse {Path.GetFileName(result.Before.ModelPath)}\n\n");
        var written = result.OptimizedWeightsPath == result.OptimizedDefinitionPath
            ? result.OptimizedDefinitionPath // a single-file format: the weights are inside the model file
            : $"{result.OptimizedDefinitionPath}, {result.OptimizedWeightsPath}";
        sb.Append(CultureInfo.InvariantCulture, $"written: {written}\n\n");
        var applied = result.Passes.Applied.ToList();
        var refused = result.Passes.NotApplied.ToList();
        sb.Append(CultureInfo.InvariantCulture, $"## applied ({applied.Count})\n\n");
        foreach (var group in applied.GroupBy(e => e.Pass))
        {
            sb.Append(CultureInfo.InvariantCulture, $"- {group.Key}: {group.Count()} at layers {string.Join(", ", group.Select(e => e.Origin.Index).Distinct())}\n");
        }

        sb.Append(CultureInfo.InvariantCulture, $"\n## not applied ({refused.Count})\n\n");
        foreach (var e in refused)
        {
            var where = ReportText.Where(e.Origin, e.Node);
            sb.Append(CultureInfo.InvariantCulture, $"- layer {e.Origin.Index} [{e.Origin.Kind}] ({where}) {e.Pass}: {e.Detail}\n");
        }

        if (result.Passes.Pruning.Count > 0)
        {
            sb.Append("\n## channels pruned\n\n| layer | node | output channels | input channels | params saved | MACC saved | weight bytes saved |\n|---|---|---:|---:|---:|---:|---:|\n");
            foreach (var p in result.Passes.Pruning)
            {
                sb.Append(CultureInfo.InvariantCulture,
                    $"| {p.Origin.Index} [{p.Origin.Kind}] | {p.Node} | -{p.OutputChannelsRemoved} | -{p.InputChannelsRemoved} | {p.ParamsSaved:N0} | {p.MaccSaved:N0} | {p.WeightBytesSaved:N0} |\n");
            }
        }

        if (result.Passes.LowRank.Count > 0)
        {
            sb.Append("\n## low-rank fully connected layers (lossy)\n\n| layer | node | inputs -> rank -> outputs | energy kept | weights' relative error | params saved | output: max abs error | output: max rel error |\n|---|---|---|---:|---:|---:|---:|---:|\n");
            foreach (var l in result.Passes.LowRank)
            {
                var measured = result.LossyCost?.Comparisons.FirstOrDefault(c => c.Subject.StartsWith($"layer {l.Origin.Index} ", StringComparison.Ordinal));
                sb.Append(CultureInfo.InvariantCulture,
                    $"| {l.Origin.Index} [{l.Origin.Kind}] | {l.Node} | {l.Inputs} -> {l.Rank} -> {l.Outputs} (of rank {l.FullRank}) | {l.EnergyKept:P3} | {l.WeightsRelativeError:G3} | {l.ParamsSaved:N0} | {(measured is null ? "-" : measured.MaxAbsoluteError.ToString("G3", CultureInfo.InvariantCulture))} | {(measured is null ? "-" : measured.MaxRelativeError.ToString("G3", CultureInfo.InvariantCulture))} |\n");
            }

            foreach (var output in result.LossyCost?.Comparisons.Where(c => c.Subject == "model output") ?? [])
            {
                sb.Append(CultureInfo.InvariantCulture, $"\nmodel output {output.Output}: max abs error {output.MaxAbsoluteError:G3}, max rel error {output.MaxRelativeError:G3} (measured on {result.LossyCostInputs} against the original)\n");
            }
        }

        var removed = result.RemovedLayers;
        sb.Append(CultureInfo.InvariantCulture, $"\nlayers removed: {(removed.Count == 0 ? "none" : string.Join(", ", removed))}\n\n");
        sb.Append("| metric | before | after | change |\n|---|---:|---:|---:|\n");
        void Row(string name, long before, long after, Func<long, string> format) => ReportText.MetricRow(sb, name, before, after, format);
        Row("params", result.Before.Totals.Params, result.After.Totals.Params, HumanUnits.CountWithExact);
        Row("weights bytes", result.Before.Totals.WeightsBytes, result.After.Totals.WeightsBytes, HumanUnits.BytesWithExact);
        Row("memory access (naive)", result.Before.Totals.MemoryAccess, result.After.Totals.MemoryAccess, HumanUnits.CountWithExact);
        Row("memory access (ideal)", result.Before.Totals.MemoryAccessIdeal, result.After.Totals.MemoryAccessIdeal, HumanUnits.CountWithExact);
        Row("macc", result.Before.Totals.Macc, result.After.Totals.Macc, HumanUnits.CountWithExact);
        Row("peak activation bytes", result.Before.PeakActivationBytes, result.After.PeakActivationBytes, HumanUnits.BytesWithExact);
        sb.Append('\n').Append(result.Verification?.Summary() ?? "verification: none").Append('\n');
        sb.Append("\ntime: ").Append(string.Join(", ", result.Timings.Select(t => string.Create(CultureInfo.InvariantCulture, $"{t.Phase} {t.Time.TotalMilliseconds:0} ms")))).Append('\n');
        return sb.ToString();
    }
}
