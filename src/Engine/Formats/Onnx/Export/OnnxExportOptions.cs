namespace NeuralBuild.Engine.Formats.Onnx.Export;

/// <summary>How <see cref="OnnxExporter"/> writes a model as ONNX.</summary>
public sealed record OnnxExportOptions
{
    /// <summary>The opset the export targets when none is asked for.</summary>
    public const int DefaultOpset = 13;

    /// <summary>The lowest opset the lowerings are written for (Softmax on one axis, Split/Squeeze with inputs).</summary>
    public const int MinimumOpset = 13;

    /// <summary>
    /// The newest opset the export accepts: the newest the onnx checker the tests run knows
    /// (python3-onnx 1.12: opset 17), so that every opset offered is one an exported file was checked at.
    /// </summary>
    public const int MaximumOpset = 17;

    /// <summary>The ONNX opset of the default domain, in [<see cref="MinimumOpset"/>, <see cref="MaximumOpset"/>].</summary>
    public int Opset { get; init; } = DefaultOpset;

    /// <summary>The batch axis of the input and outputs as the symbolic dimension "N" rather than the model's batch.</summary>
    public bool SymbolicBatch { get; init; }

    /// <summary>
    /// Weights in <c>NAME.onnx.data</c> beside the model rather than inside it. Null: only when the
    /// file would pass protobuf's 2 GB limit.
    /// </summary>
    public bool? ExternalData { get; init; }

    /// <summary>
    /// How conv, deconv, FC and MatMul weights are stored: float32 as given (the default, exact), float16,
    /// or int8 per output channel. Anything but <see cref="WeightQuantization.None"/> is lossy: the export
    /// no longer computes exactly what the model computes, and its error is measured, not proven zero.
    /// </summary>
    public WeightQuantization Quantize { get; init; }

    /// <summary>
    /// Calibrated ranges (IR value → min and max over the calibration inputs) of the data inputs of the
    /// layers whose weights are quantized, and of the outputs to quantize (<see cref="OnnxActivationQuantizer.CalibratedValues"/>):
    /// when given, each goes through QuantizeLinear → DequantizeLinear as uint8 per tensor
    /// (<c>quantize=int8-static</c>). Null: activations stay float.
    /// </summary>
    public IReadOnlyDictionary<string, ValueRange>? ActivationRanges { get; init; }
}
