using System.Globalization;
using NeuralBuild.Engine.Formats.Onnx.Proto;
using NeuralBuild.Engine.Ir;

namespace NeuralBuild.Engine.Formats.Onnx.Export;

/// <summary>
/// Puts the IR weights into the exported file without holding two copies of any: inside the
/// message, each tensor's bytes are computed when the serialiser reaches it (the edit-in-place
/// writer's lazy tensors, <see cref="OnnxWriterTensors"/>); in an external data file, the tensors
/// are streamed back to back through one buffer (<see cref="TensorStream"/>) and each initializer
/// points at its range.
/// </summary>
internal static class OnnxExportTensors
{
    /// <summary>Protobuf cannot serialise a message of 2 GiB or more; past this the weights go to a data file.</summary>
    public const long MessageLimit = (2L << 30) - (64L << 20);

    public static long ByteSize(IEnumerable<(TensorProto Tensor, TensorData Data)> weights) =>
        weights.Aggregate(0L, (sum, w) => Checked.Add(sum, Checked.Mul(w.Data.ElementCount, ElementSize(w.Tensor))));

    /// <summary>Bytes per element as written: float32, or the float16 / int8 of a quantized weight.</summary>
    private static int ElementSize(TensorProto tensor) => (TensorProto.Types.DataType)tensor.DataType switch
    {
        TensorProto.Types.DataType.Float16 => 2,
        TensorProto.Types.DataType.Int8 => 1,
        _ => sizeof(float),
    };

    /// <summary>Gives every weight its (lazy) bytes inside the message.</summary>
    public static void Inline(IEnumerable<(TensorProto Tensor, TensorData Data)> weights, string onnxPath)
    {
        var lazy = new OnnxWriterTensors(new GraphProto(), onnxPath, Path.GetFileName(onnxPath) + ".data");
        foreach (var (tensor, data) in weights)
        {
            lazy.AddNew(tensor, data);
            _ = lazy.External(tensor);
        }
    }

    /// <summary>Points every weight into <paramref name="dataFileName"/>, in order; returns the writer of that file.</summary>
    public static Action<string> External(IReadOnlyList<(TensorProto Tensor, TensorData Data)> weights, string dataFileName)
    {
        long offset = 0;
        foreach (var (tensor, data) in weights)
        {
            var length = Checked.Mul(data.ElementCount, sizeof(float));
            tensor.DataLocation = TensorProto.Types.DataLocation.External;
            tensor.ExternalData.Add(new StringStringEntryProto { Key = "location", Value = dataFileName });
            tensor.ExternalData.Add(new StringStringEntryProto { Key = "offset", Value = offset.ToString(CultureInfo.InvariantCulture) });
            tensor.ExternalData.Add(new StringStringEntryProto { Key = "length", Value = length.ToString(CultureInfo.InvariantCulture) });
            offset = Checked.Add(offset, length);
        }

        var stream = weights.Select(w => new Initializer(w.Tensor.Name, new Shape([.. w.Tensor.Dims]), w.Data)).ToList();
        return path => TensorStream.Write(path, [], stream);
    }
}
