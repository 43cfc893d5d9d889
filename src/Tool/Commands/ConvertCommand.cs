using System.CommandLine;
using System.Globalization;
using System.Text;
using NeuralBuild.Engine.Analysis;
using NeuralBuild.Engine.Diagnostics;
using NeuralBuild.Engine.Formats;
using NeuralBuild.Engine.Pipeline;
using NeuralBuild.OnnxRuntimeHost;

namespace NeuralBuild.Tool.Commands;

/// <summary>
/// <c>dotnet neural convert MODEL --to FORMAT --output DIR [--weights W] [--opset N] [--no-fold] [--symbolic-batch]
/// [--export-option name=value] [--dialect …] [--verify none|model] [--no-runtime-check] [--quantize int8|int8-static|fp16
/// [--max-output-error 2%] [--inputs PATH …] [--min-top1-agreement 99%]]</c>: writes
/// <c>DIR/NAME.EXT</c> and <c>convert-report.md</c>. The exported file is read back and run against the
/// original by the reference executor (<see cref="ModelConverter"/>), then run by the target's own
/// runtime where the tool has one (ONNX Runtime for ONNX) on the same seeded input: a difference beyond
/// the rounding floor is NM0041, exit 2, and nothing is written.
/// </summary>
internal static class ConvertCommand
{
    public const string ReportFileName = "convert-report.md";

    public static Command Create()
    {
        var model = CommonOptions.Model();
        var to = new Option<string>("--to") { Description = $"The format to write: {string.Join(", ", ModelFormats.ExportTargets.Select(f => f.Name))}.", Required = true };
        var output = new Option<DirectoryInfo>("--output", "-o") { Description = "Folder for the converted model and convert-report.md.", Required = true };
        var weights = CommonOptions.Weights();
        var input = CommonOptions.Input();
        var dialect = CommonOptions.Dialect();
        var formatOption = CommonOptions.FormatOption();
        var opset = new Option<int?>("--opset") { Description = "Operator set version of the written model (the export's default when omitted)." };
        var symbolicBatch = new Option<bool>("--symbolic-batch") { Description = "Write the batch dimension of the input and outputs as a symbolic dimension." };
        var exportOption = new Option<string[]>("--export-option") { Description = "An option of the export, name=value (repeatable).", AllowMultipleArgumentsPerToken = false };
        var noFold = new Option<bool>("--no-fold") { Description = "Export the model as given: no BatchNorm/Scale folding, no removal of no-ops." };
        var verify = new Option<VerifyMode>("--verify") { Description = "None, or Model: run the exported file against the original (default).", DefaultValueFactory = _ => VerifyMode.Model };
        var noRuntimeCheck = new Option<bool>("--no-runtime-check") { Description = "Do not run the exported file in its format's runtime to check it." };
        var atol = CommonOptions.AbsoluteTolerance();
        var rtol = CommonOptions.RelativeTolerance();
        var verifyInput = new Option<string?>("--verify-input") { Description = "Smaller input for the checks (fully convolutional models), e.g. 1x3x160x160." };
        var quantize = new Option<string?>("--quantize") { Description = "fp16 or int8: store conv, deconv, FC and MatMul weights quantized (export targets that take the option quantize=); int8-static: int8 weights and those layers' inputs and outputs quantized to uint8, calibrated on --inputs (default: the seeded synthetic input). The output error is measured, not proven zero." };
        quantize.AcceptOnlyFromAmong("fp16", "int8", "int8-static");
        var maxOutputError = new Option<string?>("--max-output-error") { Description = "Budget of a quantized export: the largest output error allowed, relative to the output's magnitude, e.g. 2%. Over it: NM1010, exit 2." };
        var format = CommonOptions.Format(CommonOptions.TableOrJson);
        format.Description = "table: convert-report.md (and stdout) in Markdown; json: convert-report.json, schemaVersion first.";
        var command = new Command("convert", "Write a model in another format (folded first), and prove the written file computes what the original computes.")
        {
            model, to, output, weights, input, dialect, formatOption, opset, symbolicBatch, exportOption, noFold, verify, noRuntimeCheck, atol, rtol, verifyInput, quantize, maxOutputError, format,
        };
        var evaluation = new EvaluationOptions();
        evaluation.AddTo(command);
        command.SetAction(parse => CommandRunner.Run(parse, () =>
        {
            var definition = parse.GetValue(model)!.FullName;
            var exportOptions = FormatOptions.Parse(parse.GetValue(exportOption) ?? [], new SourceLocation(definition));
            if (parse.GetValue(opset) is { } n)
            {
                exportOptions["opset"] = n.ToString(CultureInfo.InvariantCulture);
            }

            if (parse.GetValue(symbolicBatch))
            {
                exportOptions["symbolic-batch"] = "true";
            }

            if (parse.GetValue(quantize) is { } encoding)
            {
                // A format that has no exporter at all (Darknet, Caffe) gets this error too: its files hold float32 weights.
                var target = ModelFormats.All.FirstOrDefault(f => string.Equals(f.Name, parse.GetValue(to), StringComparison.OrdinalIgnoreCase));
                if (target is not null && (target.Exporter?.Options.All(o => o.Name != QuantizeOption) ?? true))
                {
                    throw DiagnosticCodes.QuantizeUnsupportedTarget.Exception(new SourceLocation(definition),
                        $"--quantize {encoding}: the {target.DisplayName} format stores float32 weights only; write the quantized model with 'convert --to {QuantizingTargets()} --quantize {encoding}'.");
                }

                exportOptions[QuantizeOption] = encoding;
            }

            using var progress = ConsoleProgress.ForConsole(definition);
            var request = new ConvertRequest
            {
                DefinitionPath = definition,
                WeightsPath = parse.GetValue(weights)?.FullName,
                InputShape = CommonOptions.ParseShape(parse.GetValue(input)),
                FormatOptions = CommonOptions.FormatOptions(parse, dialect, formatOption),
                To = parse.GetValue(to)!,
                ExportOptions = exportOptions,
                Fold = !parse.GetValue(noFold),
                Verify = parse.GetValue(verify),
                AbsoluteTolerance = parse.GetValue(atol),
                RelativeTolerance = parse.GetValue(rtol),
                VerifyInputShape = CommonOptions.ParseShape(parse.GetValue(verifyInput)),
                MaxOutputError = parse.GetValue(maxOutputError) is { } budget ? AccuracyReport.ParseBudget(budget, new SourceLocation(definition)) : null,
                MinTop1Agreement = evaluation.MinTop1Agreement(parse),
                EvaluationInputs = evaluation.Inputs(parse),
                OutputDirectory = parse.GetValue(output)!.FullName,
                Progress = progress,
            };

            using var set = OutputSet.Begin(request.OutputDirectory);
            var result = ModelConverter.Convert(request, set);
            var runtimeCheck = parse.GetValue(noRuntimeCheck) || request.Verify == VerifyMode.None
                ? null
                : RuntimeCheck(request, result, set.Stage(Path.GetFileName(result.OutputPath)));
            var json = parse.GetValue(format) == "json";
            var report = json ? PipelineJson.Convert(result, runtimeCheck?.Exact, runtimeCheck?.Measured) : Report(result, runtimeCheck);
            if (runtimeCheck is { Exact: { Passed: false } failed })
            {
                // Nothing is committed: a file that computes something else must not look converted.
                throw DiagnosticCodes.VerificationFailed.Exception(new SourceLocation(definition), failed.Summary());
            }

            runtimeCheck?.Measured?.ThrowIfOverBudget(new SourceLocation(definition));

            return ReportText.Publish(set, json ? Path.ChangeExtension(ReportFileName, ".json") : ReportFileName, report, result.Passes.Warnings.Concat(result.Export.Warnings));
        }));
        return command;
    }

    private const string QuantizeOption = "quantize";

    /// <summary>The runtime's check: an equality proof of an exact export, or the measured error of a lossy one.</summary>
    internal sealed record RuntimeOutcome(VerificationReport? Exact, AccuracyReport? Measured)
    {
        public string Summary() => Exact?.Summary() ?? Measured!.Summary();
    }

    /// <summary>The staged file run by the target format's runtime against the original; null when the tool has no runtime for the format.</summary>
    private static RuntimeOutcome? RuntimeCheck(ConvertRequest request, ConvertResult result, string stagedPath)
    {
        var (target, _) = ModelFormats.ExportTarget(request.To, new SourceLocation(request.DefinitionPath));
        using var runtime = ExportRuntimes.Open(target, stagedPath);
        if (runtime is null)
        {
            return null;
        }

        var source = ModelFormats.ForPath(request.DefinitionPath);
        var readOptions = source.WithFormatOptions(
            new ModelReadOptions { WeightsPath = request.WeightsPath ?? source.DefaultWeightsPath(request.DefinitionPath), InputShape = request.InputShape },
            request.FormatOptions,
            new SourceLocation(request.DefinitionPath));
        var original = ModelFormats.Read(request.DefinitionPath, readOptions);
        // At the input the written file declares (not --verify-input): a runtime takes only that shape.
        return result.Export.Lossy
            ? new RuntimeOutcome(null, Verifier.MeasureRuntime(original, runtime, result.Export.InputName, result.Export.Outputs, result.Export.LossyWeights, request.MaxOutputError, inputShape: null, request.EvaluationInputs, request.MinTop1Agreement))
            : new RuntimeOutcome(Verifier.VerifyRuntime(original, runtime, result.Export.InputName, result.Export.Outputs, request.AbsoluteTolerance, request.RelativeTolerance, inputShape: null), null);
    }

    /// <summary>The export targets that take the quantize option ("onnx").</summary>
    private static string QuantizingTargets() =>
        string.Join('|', ModelFormats.ExportTargets.Where(f => f.Exporter!.Options.Any(o => o.Name == QuantizeOption)).Select(f => f.Name));

    internal static string Report(ConvertResult result, RuntimeOutcome? runtimeCheck)
    {
        var sb = new StringBuilder();
        sb.Append(CultureInfo.InvariantCulture, $"# convert {Path.GetFileName(result.Before.ModelPath)}\n\n");
        sb.Append(CultureInfo.InvariantCulture, $"written: {string.Join(", ", result.Export.Files)}{(result.Export.Settings.Length > 0 ? $" ({result.Export.Settings})" : string.Empty)}\n\n");

        var applied = result.Passes.Applied.ToList();
        var refused = result.Passes.NotApplied.ToList();
        sb.Append(CultureInfo.InvariantCulture, $"## folded ({applied.Count})\n\n");
        foreach (var e in applied)
        {
            sb.Append(CultureInfo.InvariantCulture, $"- layer {e.Origin.Index} [{e.Origin.Kind}] {ReportText.Where(e.Origin, e.Node)} {e.Pass}: {e.Detail}\n");
        }

        sb.Append(CultureInfo.InvariantCulture, $"\n## not folded ({refused.Count})\n\n");
        foreach (var e in refused)
        {
            sb.Append(CultureInfo.InvariantCulture, $"- layer {e.Origin.Index} [{e.Origin.Kind}] {ReportText.Where(e.Origin, e.Node)} {e.Pass}: {e.Detail}\n");
        }

        sb.Append(CultureInfo.InvariantCulture, $"\n## layers ({result.Export.Layers.Count})\n\n| layer | kind | source | became |\n|---:|---|---|---|\n");
        foreach (var layer in result.Export.Layers)
        {
            sb.Append(CultureInfo.InvariantCulture, $"| {layer.Origin.Index} | {layer.Origin.Kind} | {ReportText.Where(layer.Origin, layer.Origin.Name)} | {(layer.Nodes.Count == 0 ? "(removed)" : string.Join(", ", layer.Nodes))} |\n");
        }

        if (result.Export.Warnings.Count > 0)
        {
            sb.Append(CultureInfo.InvariantCulture, $"\n## warnings ({result.Export.Warnings.Count})\n\n");
            foreach (var warning in result.Export.Warnings)
            {
                sb.Append("- ").Append(warning.ToString()).Append('\n');
            }
        }

        sb.Append("\n| metric | source | written | change |\n|---|---:|---:|---:|\n");
        void Row(string name, long before, long after, Func<long, string> format) => ReportText.MetricRow(sb, name, before, after, format);
        Row("params", result.Before.Totals.Params, result.After.Totals.Params, HumanUnits.CountWithExact);
        Row("weights bytes", result.Before.Totals.WeightsBytes, result.After.Totals.WeightsBytes, HumanUnits.BytesWithExact);
        Row("macc", result.Before.Totals.Macc, result.After.Totals.Macc, HumanUnits.CountWithExact);
        Row("peak activation bytes", result.Before.PeakActivationBytes, result.After.PeakActivationBytes, HumanUnits.BytesWithExact);

        if (result.Export.Lossy)
        {
            QuantizedWeights(sb, result.Export.LossyWeights);
        }

        sb.Append("\n## verification\n\n");
        sb.Append("- folds: ").Append(result.FoldVerification?.Summary() ?? "none checked").Append('\n');
        sb.Append("- written file read back: ").Append(result.ExportVerification?.Summary() ?? result.ExportAccuracy?.Summary() ?? (result.NotReadBack is { } why ? $"not possible: {why}" : "not checked")).Append('\n');
        sb.Append("- runtime: ").Append(runtimeCheck?.Summary() ?? "not run").Append('\n');
        sb.Append("\ntime: ").Append(string.Join(", ", result.Timings.Select(t => string.Create(CultureInfo.InvariantCulture, $"{t.Phase} {t.Time.TotalMilliseconds:0} ms")))).Append('\n');
        return sb.ToString();
    }

    /// <summary>Per layer, the weight bytes before and as written (with scales and zero points), and the total.</summary>
    private static void QuantizedWeights(StringBuilder sb, IReadOnlyList<LossyWeight> weights)
    {
        sb.Append(CultureInfo.InvariantCulture, $"\n## quantized weights ({weights.Count})\n\n| layer | kind | weight | encoding | bytes before | bytes written | ratio | weight error (RMS) |\n|---:|---|---|---|---:|---:|---:|---:|\n");
        foreach (var w in weights)
        {
            sb.Append(CultureInfo.InvariantCulture,
                $"| {w.Layer.Index} | {w.Layer.Kind} | {w.Weight} | {w.Encoding} | {w.OriginalBytes:N0} | {w.WrittenBytes:N0} | {(double)w.WrittenBytes / w.OriginalBytes:0.###} | {w.RelativeError * 100:0.###}% |\n");
        }

        long before = weights.Sum(w => w.OriginalBytes), after = weights.Sum(w => w.WrittenBytes);
        sb.Append(CultureInfo.InvariantCulture, $"| | total | | | {before:N0} | {after:N0} | {(before == 0 ? 0 : (double)after / before):0.###} | |\n");
    }
}
