using Google.Protobuf;
using NeuralBuild.Engine.Formats.Onnx.Proto;
using NeuralBuild.Fuzzer.Mutation;

namespace NeuralBuild.Fuzzer.Tests.Mutation;

[TestClass]
public sealed class ProtobufWireTests
{
    private static byte[] Model()
    {
        var tensor = new TensorProto { Name = "w", DataType = 1, RawData = ByteString.CopyFrom(new byte[16]) };
        tensor.Dims.AddRange([2, 2]);
        var graph = new GraphProto { Name = "g" };
        graph.Initializer.Add(tensor);
        graph.Node.Add(new NodeProto { OpType = "Relu", Input = { "x" }, Output = { "y" } });
        return new ModelProto { IrVersion = 8, Graph = graph }.ToByteArray();
    }

    [TestMethod]
    public void Parsed_records_write_back_the_same_bytes()
    {
        var bytes = Model();
        CollectionAssert.AreEqual(bytes, WireMessage.TryParse(bytes)!.ToBytes());
    }

    [TestMethod]
    public void A_lying_length_is_written_and_the_real_parser_rejects_or_misreads_it()
    {
        var bytes = Model();
        var message = WireMessage.TryParse(bytes)!;
        var graph = message.Fields.Single(f => f.Number == 7); // ModelProto.graph
        graph.LengthOverride = int.MaxValue;
        var damaged = message.ToBytes();

        // The same records with the graph's length varint now 5 bytes (2^31-1) instead of 1.
        Assert.HasCount(bytes.Length + 4, damaged);
        Assert.ThrowsExactly<InvalidProtocolBufferException>(() => ModelProto.Parser.ParseFrom(damaged));
    }

    [TestMethod]
    public void Nested_varints_are_reachable_and_change_the_parsed_model()
    {
        var message = WireMessage.TryParse(Model())!;
        var dims = message.AllFields().Where(f => f.Field.WireType == 0 && f.Field.Varint == 2).ToList();
        Assert.IsNotEmpty(dims);
        foreach (var (field, _) in dims)
        {
            field.Varint = ulong.MaxValue;
        }

        var parsed = ModelProto.Parser.ParseFrom(message.ToBytes());
        CollectionAssert.AreEqual(new long[] { -1, -1 }, parsed.Graph.Initializer[0].Dims.ToArray());
    }

    [TestMethod]
    public void Bytes_that_are_not_protobuf_do_not_parse() =>
        Assert.IsNull(WireMessage.TryParse([0x0F, 0xFF, 0xFF]));
}
