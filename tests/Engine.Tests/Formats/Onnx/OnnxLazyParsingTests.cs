using Google.Protobuf;
using NeuralBuild.Engine.Diagnostics;
using NeuralBuild.Engine.Formats;
using NeuralBuild.Engine.Formats.Onnx;
using NeuralBuild.Engine.Formats.Onnx.Proto;
using NeuralBuild.Engine.Ir;
using NeuralBuild.Engine.Tests.Support;

namespace NeuralBuild.Engine.Tests.Formats.Onnx;

/// <summary>
/// The ONNX reader leaves initializers of 64 KiB or more in the file (<see cref="OnnxLazyParsing"/>):
/// checked against Google.Protobuf's own parse of the whole file, against the values written, and
/// for the damage a lazy read could hide (a file cut inside a tensor, a file changed after reading).
/// </summary>
[TestClass]
public sealed class OnnxLazyParsingTests
{
    /// <summary>A conv whose weights (64 x 32 x 3 x 3 floats, 73,728 bytes) pass the threshold and whose bias (256 bytes) does not.</summary>
    private static ModelProto Conv() => TinyOnnx.Model(13,
        [TinyOnnx.Node("Conv", "conv", ["x", "w", "b"], ["y"], TinyOnnx.Ints("pads", 1, 1, 1, 1))],
        [TinyOnnx.Random("w", 7, -1, 1, 64, 32, 3, 3), TinyOnnx.Random("b", 8, -1, 1, 64)],
        inputDims: [1, 32, 8, 8]);

    [TestMethod]
    public void A_large_initializer_is_read_from_the_file_with_the_values_written()
    {
        using var dir = new TempDirectory();
        var written = Conv();
        var path = dir.Write("net.onnx", written.ToByteArray());

        var model = ModelFormats.Read(path);

        var weights = model.Graph.Initializers["w"].Data;
        Assert.IsInstanceOfType<FileSliceData>(weights, "the weights are a slice of the file, not a copy");
        Assert.AreEqual(path, ((FileSliceData)weights!).Path);
        var expected = new float[64 * 32 * 3 * 3];
        Buffer.BlockCopy(written.Graph.Initializer[0].RawData.ToByteArray(), 0, expected, 0, expected.Length * 4);
        CollectionAssert.AreEqual(expected, weights.ToArray());
        CollectionAssert.AreEqual(written.Graph.Initializer[1].RawData.ToByteArray(), ((OnnxModel)model.SourceDocument!).Proto.Graph.Initializer[1].RawData.ToByteArray());
        Assert.IsNull(OnnxLazyParsing.SliceOf(((OnnxModel)model.SourceDocument!).Proto.Graph.Initializer[1]), "256 bytes of bias are parsed");
    }

    [TestMethod]
    public void The_lazy_model_equals_the_whole_parse_and_writes_back_byte_for_byte()
    {
        using var dir = new TempDirectory();
        var bytes = Conv().ToByteArray();
        var path = dir.Write("net.onnx", bytes);

        var model = ModelFormats.Read(path);
        var lazy = ((OnnxModel)model.SourceDocument!).Proto;

        Assert.AreEqual(ModelProto.Parser.ParseFrom(bytes), lazy, "every field, the raw_data read from the file included");
        var output = Path.Combine(dir.Path, "out", "net.onnx");
        Directory.CreateDirectory(Path.GetDirectoryName(output)!);
        new OnnxFormat().Write(model, output, output);
        CollectionAssert.AreEqual(bytes, File.ReadAllBytes(output));
    }

    [TestMethod]
    public void A_file_cut_inside_a_large_tensor_is_NM0200()
    {
        using var dir = new TempDirectory();
        var bytes = Conv().ToByteArray();
        // The weights' raw_data is the bulk of the file: cutting 40,000 bytes lands inside it.
        var path = dir.Write("net.onnx", bytes[..(bytes.Length - 40_000)]);

        var error = DiagnosticAssert.Throws(DiagnosticCodes.OnnxMalformed, () => ModelFormats.Read(path));

        StringAssert.Contains(error.Message, "net.onnx");
    }

    [TestMethod]
    public void A_file_changed_after_reading_is_NM0200_when_its_weights_are_read()
    {
        using var dir = new TempDirectory();
        var path = dir.Write("net.onnx", Conv().ToByteArray());
        var model = ModelFormats.Read(path);

        File.WriteAllBytes(path, [.. File.ReadAllBytes(path), 0, 0, 0, 0]);

        var error = DiagnosticAssert.Throws(DiagnosticCodes.OnnxMalformed, () => ((OnnxModel)model.SourceDocument!).Proto.Graph.Initializer[0].RawData.ToByteArray());
        StringAssert.Contains(error.Message, "changed");
    }
}
