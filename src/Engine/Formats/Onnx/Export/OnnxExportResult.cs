using System.Globalization;
using NeuralBuild.Engine.Diagnostics;
using NeuralBuild.Engine.Ir;

namespace NeuralBuild.Engine.Formats.Onnx.Export;

/// <summary>What one source layer became: its IR nodes and the ONNX nodes (name and operator) written for them.</summary>
public sealed record OnnxLayerExport(LayerOrigin Origin, IReadOnlyList<string> IrNodes, IReadOnlyList<(string Name, string OpType)> OnnxNodes);

/// <summary>A node the export could not lower, with the coded reason (at the layer's place in its file).</summary>
public sealed record OnnxExportRefusal(LayerOrigin Origin, string IrNode, string OpType, Diagnostic Diagnostic);

/// <summary>A graph input or output: the IR value and its name in the ONNX file.</summary>
public sealed record OnnxExportValue(string IrValue, string OnnxName);

/// <summary>The outcome of <see cref="OnnxExporter.Export"/>: the files written (none when a layer was refused), per layer what it became, the refusals and the warnings.</summary>
public sealed class OnnxExportResult
{
    internal OnnxExportResult(int opset, string? onnxPath, string? dataPath, IReadOnlyList<OnnxLayerExport> layers, IReadOnlyList<OnnxExportRefusal> refusals, IReadOnlyList<Diagnostic> warnings, IReadOnlyList<OnnxExportValue> inputs, IReadOnlyList<OnnxExportValue> outputs)
    {
        Opset = opset;
        OnnxPath = onnxPath;
        DataPath = dataPath;
        Layers = layers;
        Refusals = refusals;
        Warnings = warnings;
        Inputs = inputs;
        Outputs = outputs;
    }

    public int Opset { get; }

    /// <summary>The ONNX file written; null when the export was refused.</summary>
    public string? OnnxPath { get; }

    /// <summary>The external data file written beside it, if any.</summary>
    public string? DataPath { get; }

    public bool Succeeded => Refusals.Count == 0;

    public IReadOnlyList<OnnxLayerExport> Layers { get; }

    public IReadOnlyList<OnnxExportRefusal> Refusals { get; }

    public IReadOnlyList<Diagnostic> Warnings { get; }

    /// <summary>The weights written quantized (<see cref="OnnxExportOptions.Quantize"/>); empty for an exact export.</summary>
    public IReadOnlyList<LossyWeight> Quantized { get; init; } = [];

    /// <summary>The IR values read through a QuantizeLinear → DequantizeLinear pair (<see cref="OnnxExportOptions.ActivationRanges"/>); empty when activations stay float.</summary>
    public IReadOnlyList<LossyActivation> QuantizedActivations { get; init; } = [];

    /// <summary>The graph inputs.</summary>
    public IReadOnlyList<OnnxExportValue> Inputs { get; }

    /// <summary>The graph outputs, in the order of the model's outputs (a DetectionOutput's replaced by its inputs).</summary>
    public IReadOnlyList<OnnxExportValue> Outputs { get; }

    /// <summary>NM0306 listing every refusal when the export was refused.</summary>
    public void ThrowIfRefused()
    {
        if (Succeeded)
        {
            return;
        }

        var first = Refusals[0].Diagnostic;
        var list = string.Join("; ", Refusals.Select(r => r.Diagnostic.ToString()));
        throw DiagnosticCodes.ExportRefused.Exception(first.Location,
            string.Create(CultureInfo.InvariantCulture, $"{Refusals.Count} layer(s) cannot be exported to ONNX, so nothing was written: {list}"));
    }
}
