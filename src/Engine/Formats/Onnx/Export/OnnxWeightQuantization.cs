using System.Buffers;
using NeuralBuild.Engine.Ir;
using DT = NeuralBuild.Engine.Formats.Onnx.Proto.TensorProto.Types.DataType;

namespace NeuralBuild.Engine.Formats.Onnx.Export;

/// <summary>How the export stores the weights of conv, deconv, FC and MatMul layers.</summary>
public enum WeightQuantization
{
    /// <summary>float32, exactly as the IR holds them.</summary>
    None,

    /// <summary>float16 initializers, each read through a <c>Cast</c> to float.</summary>
    Float16,

    /// <summary>int8 per output channel, asymmetric (a scale and a zero point per channel), read through <c>DequantizeLinear</c>.</summary>
    Int8,
}

/// <summary>
/// The int8 encoding of one weight tensor, per output channel along <see cref="Axis"/>: the channel's
/// range widened to include 0 (so 0 is exact) maps onto -128..127 (ONNX Runtime's quantization tool
/// does the same): scale = (max - min) / 255, zero point = round(-128 - min / scale), q = clamp(round(w
/// / scale) + zero point). Rounding is to even, as numpy's and ONNX's. An all-zero channel has scale 1
/// and zero point 0. Dequantized, every value is within scale / 2 of the original.
/// </summary>
internal sealed class Int8ChannelEncoding
{
    private Int8ChannelEncoding(int axis, long inner, float[] scales, sbyte[] zeroPoints)
    {
        Axis = axis;
        Inner = inner;
        Scales = scales;
        ZeroPoints = zeroPoints;
    }

    /// <summary>The output-channel axis (0 for Conv and Gemm transB=1, 1 for ConvTranspose and MatMul / Gemm transB=0).</summary>
    public int Axis { get; }

    /// <summary>Elements after the channel axis: element i is in channel (i / Inner) % Channels.</summary>
    public long Inner { get; }

    public float[] Scales { get; }

    public sbyte[] ZeroPoints { get; }

    /// <summary>Reads <paramref name="data"/> once, through a small buffer, for each channel's range.</summary>
    public static Int8ChannelEncoding Measure(TensorData data, IReadOnlyList<long> dims, int axis)
    {
        var channels = checked((int)dims[axis]);
        var inner = dims.Skip(axis + 1).Aggregate(1L, (a, b) => a * b);
        var min = new float[channels];
        var max = new float[channels];
        Chunks.Read(data, (start, span) =>
        {
            for (var i = 0; i < span.Length; i++)
            {
                var channel = (int)((start + i) / inner % channels);
                min[channel] = Math.Min(min[channel], span[i]);
                max[channel] = Math.Max(max[channel], span[i]);
            }
        });

        var scales = new float[channels];
        var zeroPoints = new sbyte[channels];
        for (var c = 0; c < channels; c++)
        {
            // min starts at 0 and max at 0: the range always includes 0.
            var (scale, zeroPoint) = Parameters(min[c], max[c]);
            scales[c] = scale;
            zeroPoints[c] = zeroPoint;
        }

        return new Int8ChannelEncoding(axis, inner, scales, zeroPoints);
    }

    /// <summary>Scale and zero point of a range that includes 0.</summary>
    public static (float Scale, sbyte ZeroPoint) Parameters(float min, float max)
    {
        if (max - min <= 0 || !float.IsFinite(max - min))
        {
            return (1f, 0);
        }

        var scale = (float)(((double)max - min) / 255.0);
        var zeroPoint = Math.Clamp(Math.Round(-128.0 - (min / scale), MidpointRounding.ToEven), -128, 127);
        return (scale, (sbyte)zeroPoint);
    }

    /// <summary>Element <paramref name="index"/>'s value <paramref name="value"/> quantized and dequantized, as DequantizeLinear computes it.</summary>
    public float RoundTrip(long index, float value)
    {
        var channel = (int)(index / Inner % Scales.Length);
        return (Quantize(value, Scales[channel], ZeroPoints[channel]) - ZeroPoints[channel]) * Scales[channel];
    }

    public static sbyte Quantize(float value, float scale, sbyte zeroPoint) =>
        (sbyte)Math.Clamp(Math.Round(value / scale, MidpointRounding.ToEven) + zeroPoint, -128, 127);

    /// <summary>The int8 values of <paramref name="source"/> (as exact floats), computed per range when the writer reads them.</summary>
    public TensorData Encode(TensorData source) => new QuantizedValues(source, this);

    private sealed class QuantizedValues(TensorData source, Int8ChannelEncoding encoding) : TensorData
    {
        public override long ElementCount => source.ElementCount;

        public override void CopyTo(Span<float> destination) => CopyTo(0, destination);

        public override void CopyTo(long start, Span<float> destination, OpenFiles? files = null)
        {
            source.CopyTo(start, destination, files);
            var channels = encoding.Scales.Length;
            for (var i = 0; i < destination.Length; i++)
            {
                var channel = (int)((start + i) / encoding.Inner % channels);
                destination[i] = Quantize(destination[i], encoding.Scales[channel], encoding.ZeroPoints[channel]);
            }
        }
    }
}

/// <summary>
/// Writes a weight initializer quantized (<see cref="OnnxExportOptions.Quantize"/>) and emits the node
/// that turns it back into float for the layer: <c>DequantizeLinear</c> (per axis, opset 13) for int8,
/// <c>Cast</c> for float16. Small tensors (fewer than <see cref="MinimumElements"/>) stay float: the
/// scale and zero point would cost more than they save.
/// </summary>
internal static class OnnxWeightQuantizer
{
    public const long MinimumElements = 1024;

    /// <summary>
    /// The ONNX name of weight input <paramref name="index"/> of the context's node, stored as the
    /// export asks, with <paramref name="channelAxis"/> its output-channel axis.
    /// </summary>
    public static string Weight(OnnxLoweringContext c, int index, int channelAxis)
    {
        var quantization = c.Quantization;
        if (quantization == WeightQuantization.None || c.Weight(index) is not { } weight || weight.DataType != Ir.DataType.Float32
            || weight.Shape.ElementCount < MinimumElements || channelAxis >= weight.Shape.Rank)
        {
            return c.Input(index);
        }

        var data = weight.Data!;
        var dims = weight.Shape.Dims;
        var stem = OnnxExportGraph.Sanitise(weight.Name);
        if (quantization == WeightQuantization.Float16)
        {
            var half = c.QuantizedInitializer(stem + "/float16", DT.Float16, dims, data);
            var cast = c.Emit("Cast", [half], [OnnxExportGraph.Int("to", (long)DT.Float)]);
            c.RecordQuantized(new LossyWeight(c.Node.Origin, weight.Name, "float16", data.ElementCount * 4, data.ElementCount * 2, RelativeRmsError(data, (_, v) => (float)(Half)v))
            {
                Stored = new RoundTrippedData(data, (_, v) => (float)(Half)v),
            });
            return cast;
        }

        var encoding = Int8ChannelEncoding.Measure(data, dims, channelAxis);
        var channels = encoding.Scales.Length;
        var values = c.QuantizedInitializer(stem + "/int8", DT.Int8, dims, encoding.Encode(data));
        var scale = c.Floats("scale", encoding.Scales, channels);
        var zeroPoint = c.Int8s("zero_point", encoding.ZeroPoints);
        var dequantized = c.Emit("DequantizeLinear", [values, scale, zeroPoint], [OnnxExportGraph.Int("axis", channelAxis)]);
        c.RecordQuantized(new LossyWeight(c.Node.Origin, weight.Name, "int8 per channel", data.ElementCount * 4, data.ElementCount + (channels * 5L), RelativeRmsError(data, encoding.RoundTrip))
        {
            Stored = new RoundTrippedData(data, encoding.RoundTrip),
        });
        return dequantized;
    }

    /// <summary>
    /// How far the stored weights moved: RMS(w - stored(w)) / RMS(w), read through a small buffer (the
    /// ranking of the layers an over-budget error names).
    /// </summary>
    public static double RelativeRmsError(TensorData data, Func<long, float, float> roundTrip)
    {
        double squares = 0, errors = 0;
        Chunks.Read(data, (start, span) =>
        {
            for (var i = 0; i < span.Length; i++)
            {
                var error = (double)span[i] - roundTrip(start + i, span[i]);
                squares += (double)span[i] * span[i];
                errors += error * error;
            }
        });

        return squares > 0 ? Math.Sqrt(errors / squares) : 0;
    }

    /// <summary>Parses the <c>quantize</c> option's value.</summary>
    public static WeightQuantization? Parse(string text) => text switch
    {
        "none" => WeightQuantization.None,
        "fp16" => WeightQuantization.Float16,
        "int8" => WeightQuantization.Int8,
        _ => null,
    };
}

/// <summary>A weight's values after a lossy encoding and back (<c>roundTrip(index, value)</c>), computed per range as they are read.</summary>
internal sealed class RoundTrippedData(TensorData source, Func<long, float, float> roundTrip) : TensorData
{
    public override long ElementCount => source.ElementCount;

    public override void CopyTo(Span<float> destination) => CopyTo(0, destination);

    public override void CopyTo(long start, Span<float> destination, OpenFiles? files = null)
    {
        source.CopyTo(start, destination, files);
        for (var i = 0; i < destination.Length; i++)
        {
            destination[i] = roundTrip(start + i, destination[i]);
        }
    }
}

/// <summary>A tensor's values read front to back through one pooled buffer of 64 K floats: a weight of any size is never held whole.</summary>
internal static class Chunks
{
    public delegate void Visitor(long start, ReadOnlySpan<float> values);

    public static void Read(TensorData data, Visitor visit)
    {
        var buffer = ArrayPool<float>.Shared.Rent(1 << 16);
        try
        {
            using var files = new OpenFiles();
            for (long start = 0; start < data.ElementCount;)
            {
                var span = buffer.AsSpan(0, (int)Math.Min(buffer.Length, data.ElementCount - start));
                data.CopyTo(start, span, files);
                visit(start, span);
                start += span.Length;
            }
        }
        finally
        {
            ArrayPool<float>.Shared.Return(buffer);
        }
    }
}
