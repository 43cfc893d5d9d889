using System.Globalization;
using NeuralBuild.Engine.Diagnostics;
using NeuralBuild.Engine.Ir;
using NeuralBuild.Engine.Passes;

namespace NeuralBuild.Engine.Formats.Onnx.Export;

/// <summary>
/// <see cref="OnnxExporter"/> as the ONNX format's <see cref="IModelExporter"/>: its options as generic
/// <c>name=value</c> pairs, a refusal as NM0306, and what each layer became in the format-neutral terms
/// the pipeline and the tool report.
/// </summary>
internal sealed class OnnxModelExporter : IModelExporter
{
    private const string OpsetOption = "opset";
    private const string SymbolicBatchOption = "symbolic-batch";
    private const string ExternalDataOption = "external-data";
    internal const string QuantizeOption = "quantize";

    public static OnnxModelExporter Instance { get; } = new();

    public string Extension => ".onnx";

    public IReadOnlyList<FormatOptionInfo> Options { get; } =
    [
        new(OpsetOption, string.Create(CultureInfo.InvariantCulture, $"operator set version, {OnnxExportOptions.MinimumOpset} to {OnnxExportOptions.MaximumOpset} (default {OnnxExportOptions.DefaultOpset})")),
        new(SymbolicBatchOption, "true: the batch axis of the input and outputs is the symbolic dimension N"),
        new(ExternalDataOption, "true: weights in NAME.onnx.data beside the model; false: inside it (default: only past 2 GB)"),
        new(QuantizeOption, "fp16 or int8: conv, deconv, FC and MatMul weights stored as float16, or int8 per output channel; int8-static: int8 weights and those layers' inputs and outputs quantized to uint8 per tensor (QDQ), calibrated on the evaluation inputs (lossy: the output error is measured); none (default): float32"),
    ];

    public WriterContract Contract => OnnxExportContract.Instance;

    public ExportRuntimeBinding Runtime { get; } =
        new("Microsoft.ML.OnnxRuntime", "global::Microsoft.ML.OnnxRuntime.InferenceSession", "global::Microsoft.ML.OnnxRuntime.SessionOptions");

    public IReadOnlyList<string> CalibratedValues(Model model, IReadOnlyDictionary<string, string> options)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(options);
        return options.TryGetValue(QuantizeOption, out var quantize) && OnnxActivationQuantizer.Parse(quantize) is (_, true)
            ? OnnxActivationQuantizer.CalibratedValues(model.Graph)
            : [];
    }

    public ModelExport Export(Model model, string path, IReadOnlyDictionary<string, string> options, SourceLocation where, IReadOnlyDictionary<string, ValueRange>? calibration = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (options.Keys.FirstOrDefault(k => Options.All(o => o.Name != k)) is { } unknown)
        {
            throw DiagnosticCodes.InvalidFormatOption.Exception(where, $"export option '{unknown}' does not apply: the ONNX export takes only {string.Join(", ", Options.Select(o => o.Name))}.");
        }

        var quantization = options.TryGetValue(QuantizeOption, out var quantize)
            ? OnnxActivationQuantizer.Parse(quantize) ?? throw DiagnosticCodes.InvalidFormatOption.Exception(where, $"export option {QuantizeOption}={quantize}: use fp16, int8, {OnnxActivationQuantizer.StaticOption} or none.")
            : (Weights: WeightQuantization.None, Activations: false);
        var exportOptions = new OnnxExportOptions
        {
            Opset = options.TryGetValue(OpsetOption, out var opset) ? Integer(opset, OpsetOption, where) : OnnxExportOptions.DefaultOpset,
            SymbolicBatch = options.TryGetValue(SymbolicBatchOption, out var symbolic) && Flag(symbolic, SymbolicBatchOption, where),
            ExternalData = options.TryGetValue(ExternalDataOption, out var external) ? Flag(external, ExternalDataOption, where) : null,
            Quantize = quantization.Weights,
            // Activations quantized with no ranges measured: every quantized layer is NM0383.
            ActivationRanges = quantization.Activations ? calibration ?? new Dictionary<string, ValueRange>() : null,
        };
        var result = OnnxExporter.Export(model, path, exportOptions);
        result.ThrowIfRefused();
        return new ModelExport
        {
            Files = [result.OnnxPath!, .. result.DataPath is { } data ? [data] : Array.Empty<string>()],
            InputName = result.Inputs[0].OnnxName,
            Outputs = [.. result.Outputs.Select(o => (o.IrValue, o.OnnxName))],
            Layers = [.. result.Layers.Select(l => new ExportedLayer(l.Origin, [.. l.OnnxNodes.Select(n => $"{n.OpType} '{n.Name}'")]))],
            Warnings = result.Warnings,
            Settings = string.Create(CultureInfo.InvariantCulture, $"ONNX opset {result.Opset}{(exportOptions.Quantize == WeightQuantization.None ? string.Empty : $", weights {exportOptions.Quantize switch { WeightQuantization.Int8 => "int8 per channel", _ => "float16" }}")}{(result.QuantizedActivations.Count > 0 ? $", {result.QuantizedActivations.Count} activations uint8 per tensor (calibrated)" : string.Empty)}"),
            LossyWeights = result.Quantized,
            QuantizedActivations = result.QuantizedActivations,
        };
    }

    private static int Integer(string text, string name, SourceLocation where) =>
        int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var value) ? value
            : throw DiagnosticCodes.InvalidFormatOption.Exception(where, $"export option {name}={text}: give a whole number.");

    private static bool Flag(string text, string name, SourceLocation where) =>
        bool.TryParse(text, out var value) ? value
            : throw DiagnosticCodes.InvalidFormatOption.Exception(where, $"export option {name}={text}: use true or false.");
}

/// <summary>What the ONNX export can express: every node whose operator has a lowering in <see cref="OnnxExportMap"/>.</summary>
internal sealed class OnnxExportContract : WriterContract
{
    public static OnnxExportContract Instance { get; } = new();

    public override string WriterName => "ONNX export";

    public override string? CannotExpress(Node node, NodeEdit edit) =>
        edit == NodeEdit.Created && OnnxExportMap.Find(node.OpType) is null ? $"a new {node.OpType} node: it has no ONNX lowering" : null;
}
