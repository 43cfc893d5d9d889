using Google.Protobuf;
using NeuralBuild.Engine.Diagnostics;
using NeuralBuild.Engine.Formats.Caffe;
using NeuralBuild.Engine.Formats.Caffe.Proto;
using NeuralBuild.Engine.Ir;

namespace NeuralBuild.Engine.Tests.Formats.Caffe;

[TestClass]
public sealed class CaffemodelTests
{
    private static float[] Data(Model model, string initializer) => model.Graph.Initializers[initializer].Data!.ToArray();

    private static Model ReadTiny(CaffeFixture fixture, NetParameter weights) =>
        CaffeFixture.Read(fixture.Write("tiny.prototxt", CaffeFixture.Tiny), fixture.Write("tiny.caffemodel", weights.ToByteArray()));

    [TestMethod]
    public void Blobs_attach_to_the_initializers_of_the_layer_with_the_same_name()
    {
        using var fixture = new CaffeFixture();
        var model = ReadTiny(fixture, CaffeFixture.TinyWeights(factor: 2f));
        var conv = model.Graph.Nodes.Single(n => n.Name == "conv1");
        var weights = Data(model, conv.Inputs[1]);
        Assert.HasCount(108, weights);
        for (var i = 0; i < weights.Length; i++)
        {
            Assert.AreEqual(CaffeFixture.Value(1, 0, i), weights[i]);
        }

        var fc = model.Graph.Nodes.Single(n => n.Name == "fc");
        Assert.AreEqual(CaffeFixture.Value(6, 1, 4), Data(model, fc.Inputs[2])[4]);

        // BatchNorm statistics are the stored sums divided by the moving-average factor (2 here):
        // variance blob holds 3.0 everywhere → 1.5; mean blob value v → v * 0.5.
        var bn = model.Graph.Nodes.Single(n => n.Name == "bn1");
        Assert.AreEqual(string.Empty, bn.Inputs[1]);
        CollectionAssert.AreEqual(new[] { 1.5f, 1.5f, 1.5f, 1.5f }, Data(model, bn.Inputs[4]));
        Assert.AreEqual(CaffeFixture.Value(2, 0, 3) * 0.5f, Data(model, bn.Inputs[3])[3]);
        Assert.AreEqual(0.001f, (float)bn.Attributes.Float("epsilon"));

        var document = (CaffeModel)model.SourceDocument!;
        Assert.IsNotNull(document.Weights);
        var bnLayer = document.Layers.Single(l => l.Layer.Name == "bn1");
        Assert.IsNull(bnLayer.Blobs.Single(b => b.Index == 2).Initializer, "the factor blob is no initializer");
    }

    [TestMethod]
    public void A_zero_moving_average_factor_zeroes_the_statistics_as_Caffe_does()
    {
        using var fixture = new CaffeFixture();
        var model = ReadTiny(fixture, CaffeFixture.TinyWeights(factor: 0f));
        var bn = model.Graph.Nodes.Single(n => n.Name == "bn1");
        CollectionAssert.AreEqual(new float[4], Data(model, bn.Inputs[3]));
        CollectionAssert.AreEqual(new float[4], Data(model, bn.Inputs[4]));
    }

    [TestMethod]
    public void Unknown_fields_survive_a_read_and_a_rewrite_byte_for_byte()
    {
        // Layer "conv1" gains field 9999 (varint 42), blob 0 of the fc gains field 77 (a string),
        // and the net gains field 500; none is in caffe.proto. Google.Protobuf writes known fields
        // in field-number order and unknown ones after them, which is where they are appended here.
        var net = CaffeFixture.TinyWeights();
        var bytes = new MemoryStream();
        using (var output = new CodedOutputStream(bytes, leaveOpen: true))
        {
            output.WriteTag(NetParameter.NameFieldNumber, WireFormat.WireType.LengthDelimited);
            output.WriteString(net.Name);
            foreach (var layer in net.Layer)
            {
                var layerBytes = layer.ToByteArray();
                if (layer.Name == "conv1")
                {
                    layerBytes = [.. layerBytes, .. Unknown(o => { o.WriteTag(9999, WireFormat.WireType.Varint); o.WriteInt32(42); })];
                }

                if (layer.Name == "fc")
                {
                    var blob = layer.Blobs[0].ToByteArray();
                    blob = [.. blob, .. Unknown(o => { o.WriteTag(77, WireFormat.WireType.LengthDelimited); o.WriteString("kept"); })];
                    layerBytes = Reassemble(layer, blob);
                }

                output.WriteTag(NetParameter.LayerFieldNumber, WireFormat.WireType.LengthDelimited);
                output.WriteBytes(ByteString.CopyFrom(layerBytes));
            }

            output.WriteTag(500, WireFormat.WireType.Varint);
            output.WriteInt64(123456789);
        }

        var original = bytes.ToArray();
        using var fixture = new CaffeFixture();
        var model = CaffeFixture.Read(fixture.Write("tiny.prototxt", CaffeFixture.Tiny), fixture.Write("tiny.caffemodel", original));
        var read = ((CaffeModel)model.SourceDocument!).Weights!;

        CollectionAssert.AreEqual(original, read.ToByteArray());
        CollectionAssert.AreNotEqual(CaffeFixture.TinyWeights().ToByteArray(), original, "the unknown fields are really in the file");
        Assert.AreEqual(CaffeFixture.Value(6, 0, 0), model.Graph.Initializers[model.Graph.Nodes.Single(n => n.Name == "fc").Inputs[1]].Data!.ToArray()[0]);
    }

    /// <summary>The layer's bytes with blob 0 replaced by <paramref name="blob0"/> (other fields as Google.Protobuf writes them).</summary>
    private static byte[] Reassemble(LayerParameter layer, byte[] blob0)
    {
        var stream = new MemoryStream();
        using (var output = new CodedOutputStream(stream, leaveOpen: true))
        {
            output.WriteTag(LayerParameter.NameFieldNumber, WireFormat.WireType.LengthDelimited);
            output.WriteString(layer.Name);
            output.WriteTag(LayerParameter.TypeFieldNumber, WireFormat.WireType.LengthDelimited);
            output.WriteString(layer.Type);
            output.WriteTag(LayerParameter.BlobsFieldNumber, WireFormat.WireType.LengthDelimited);
            output.WriteBytes(ByteString.CopyFrom(blob0));
            for (var i = 1; i < layer.Blobs.Count; i++)
            {
                output.WriteTag(LayerParameter.BlobsFieldNumber, WireFormat.WireType.LengthDelimited);
                output.WriteMessage(layer.Blobs[i]);
            }
        }

        return stream.ToArray();
    }

    private static byte[] Unknown(Action<CodedOutputStream> write)
    {
        var stream = new MemoryStream();
        using (var output = new CodedOutputStream(stream, leaveOpen: true))
        {
            write(output);
        }

        return stream.ToArray();
    }

    [TestMethod]
    [DataRow(0.98)]
    [DataRow(0.6)]
    [DataRow(0.1)]
    [DataRow(0.001)]
    public void A_truncated_caffemodel_is_NM0130_naming_where_it_ends(double keep)
    {
        using var fixture = new CaffeFixture();
        var bytes = CaffeFixture.TinyWeights().ToByteArray();
        var cut = bytes[..Math.Max(1, (int)(bytes.Length * keep))];
        var e = CaffeFixture.Throws(() => CaffeFixture.Read(fixture.Write("tiny.prototxt", CaffeFixture.Tiny), fixture.Write("tiny.caffemodel", cut)));
        Assert.AreEqual(DiagnosticCodes.CaffemodelTruncated.Code, e.Code, e.ToString());
        StringAssert.Contains(e.Message, $"actual {cut.Length:N0}");
        StringAssert.Contains(e.Message, "truncated");
    }

    [TestMethod]
    public void A_truncated_caffemodel_names_the_layer_and_blob()
    {
        using var fixture = new CaffeFixture();
        var bytes = CaffeFixture.TinyWeights().ToByteArray();
        var e = CaffeFixture.Throws(() => CaffeFixture.Read(fixture.Write("tiny.prototxt", CaffeFixture.Tiny), fixture.Write("tiny.caffemodel", bytes[..(bytes.Length - 100)])));
        StringAssert.Contains(e.Message, "'fc', blob 0");

        // The file must reach at least the end of the fc record: everything but the last layer
        // record ("loss"), which is its tag (field 100: two varint bytes), a one-byte length and its bytes.
        var loss = CaffeFixture.TinyWeights().Layer.Last().ToByteArray();
        StringAssert.Contains(e.Message, $"expected at least {bytes.Length - (2 + 1 + loss.Length):N0} bytes, actual {bytes.Length - 100:N0}");
    }

    [TestMethod]
    public void A_caffemodel_of_another_network_is_NM0132_at_the_layer_without_weights()
    {
        using var fixture = new CaffeFixture();
        var other = new NetParameter { Name = "other" };
        other.Layer.Add(CaffeFixture.Layer("convA", "Convolution", CaffeFixture.Blob(1, 0, 4, 3, 3, 3)));
        var e = CaffeFixture.Throws(() => ReadTiny(fixture, other));
        CaffeFixture.AssertAt(e, DiagnosticCodes.CaffemodelMissingLayer, 4, 1);
        StringAssert.Contains(e.Message, "no layer named 'conv1'");
        StringAssert.Contains(e.Message, "'convA'");
    }

    [TestMethod]
    public void A_wrong_blob_count_is_NM0133()
    {
        using var fixture = new CaffeFixture();
        var weights = CaffeFixture.TinyWeights();
        weights.Layer.Single(l => l.Name == "conv1").Blobs.Add(CaffeFixture.Blob(1, 1, 4)); // a bias the prototxt does not have
        var e = CaffeFixture.Throws(() => ReadTiny(fixture, weights));
        CaffeFixture.AssertAt(e, DiagnosticCodes.CaffemodelBlobCount, 4, 1);
        StringAssert.Contains(e.Message, "2 blob(s)");
        StringAssert.Contains(e.Message, "needs 1 (weights)");
    }

    [TestMethod]
    public void A_wrong_blob_shape_is_NM0134_with_expected_and_actual()
    {
        using var fixture = new CaffeFixture();
        var weights = CaffeFixture.TinyWeights();
        var fc = weights.Layer.Single(l => l.Name == "fc");
        fc.Blobs[0] = CaffeFixture.Blob(6, 0, 5, 65);
        var e = CaffeFixture.Throws(() => ReadTiny(fixture, weights));
        Assert.AreEqual(DiagnosticCodes.CaffemodelBlobShape.Code, e.Code);
        StringAssert.Contains(e.Message, "expected 5x64, actual 5x65");
        Assert.AreEqual(21, e.Location.Line);
    }

    [TestMethod]
    public void Legacy_four_axis_blob_shapes_match_as_in_Caffe()
    {
        using var fixture = new CaffeFixture();
        var weights = CaffeFixture.TinyWeights();
        var fc = weights.Layer.Single(l => l.Name == "fc");

        // Old model zoo files store (J, I) as num=1, channels=1, height=J, width=I.
        var legacy = new BlobProto { Num = 1, Channels = 1, Height = 5, Width = 64 };
        legacy.Data.Add(fc.Blobs[0].Data);
        fc.Blobs[0] = legacy;
        var model = ReadTiny(fixture, weights);
        Assert.AreEqual(CaffeFixture.Value(6, 0, 7), Data(model, model.Graph.Nodes.Single(n => n.Name == "fc").Inputs[1])[7]);

        fc.Blobs[0] = new BlobProto { Num = 5, Channels = 64, Height = 1, Width = 1, Data = { legacy.Data } };
        Assert.AreEqual(DiagnosticCodes.CaffemodelBlobShape.Code, CaffeFixture.Throws(() => ReadTiny(fixture, weights)).Code);
    }

    [TestMethod]
    public void A_blob_holding_fewer_values_than_its_shape_is_malformed()
    {
        using var fixture = new CaffeFixture();
        var weights = CaffeFixture.TinyWeights();
        weights.Layer.Single(l => l.Name == "conv1").Blobs[0].Data.RemoveAt(0);
        var e = CaffeFixture.Throws(() => ReadTiny(fixture, weights));
        Assert.AreEqual(DiagnosticCodes.CaffemodelMalformed.Code, e.Code);
        StringAssert.Contains(e.Message, "holds 107");
    }

    [TestMethod]
    public void A_layer_record_claiming_a_terabyte_is_truncated_without_allocating_it()
    {
        // NetParameter field 100 (layer), wire type 2: tag (100 << 3) | 2 = 802 = varint A2 06; then
        // the length 2^40 as a varint (41 bits: 6 bytes) and a 3-byte name field. The record would
        // end at byte 2 + 6 + 2^40 = 1,099,511,627,784; the file has 11.
        byte[] bytes = [0xA2, 0x06, 0x80, 0x80, 0x80, 0x80, 0x80, 0x20, 0x0A, 0x01, (byte)'a'];
        using var fixture = new CaffeFixture();
        var prototxt = fixture.Write("tiny.prototxt", CaffeFixture.Tiny);
        var weights = fixture.Write("hostile.caffemodel", bytes);

        var before = GC.GetAllocatedBytesForCurrentThread();
        var e = CaffeFixture.Throws(() => CaffeFixture.Read(prototxt, weights));
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.AreEqual(DiagnosticCodes.CaffemodelTruncated.Code, e.Code, e.ToString());
        StringAssert.Contains(e.Message, "expected at least 1,099,511,627,784 bytes, actual 11");
        StringAssert.Contains(e.Message, "layer record 1 'a'");
        Assert.IsLessThan(16L << 20, allocated, $"{allocated:N0} bytes allocated");
    }

    [TestMethod]
    public void A_blob_claiming_more_bytes_than_its_layer_holds_is_malformed_before_anything_is_read()
    {
        // A layer record of 7 bytes: name "a" (0A 01 61), then blob field 7 (3A) claiming 2^20
        // bytes (varint 80 80 40) where the record has none left; then the net's name "n".
        byte[] bytes = [0xA2, 0x06, 0x07, 0x0A, 0x01, (byte)'a', 0x3A, 0x80, 0x80, 0x40, 0x0A, 0x01, (byte)'n'];
        using var fixture = new CaffeFixture();

        var e = CaffeFixture.Throws(() => CaffeFixture.Read(fixture.Write("tiny.prototxt", CaffeFixture.Tiny), fixture.Write("hostile.caffemodel", bytes)));

        Assert.AreEqual(DiagnosticCodes.CaffemodelMalformed.Code, e.Code, e.ToString());
        StringAssert.Contains(e.Message, "field 7 declares 1,048,576 bytes, more than the 0 left in the record that holds it");
    }

    [TestMethod]
    public void A_file_that_is_not_a_NetParameter_is_NM0131()
    {
        using var fixture = new CaffeFixture();
        var e = CaffeFixture.Throws(() => CaffeFixture.Read(fixture.Write("tiny.prototxt", CaffeFixture.Tiny), fixture.Write("tiny.caffemodel", CaffeFixture.Tiny)));
        Assert.AreEqual(DiagnosticCodes.CaffemodelMalformed.Code, e.Code, e.ToString());
    }

    [TestMethod]
    public void Legacy_V1_caffemodels_attach_by_name()
    {
        using var fixture = new CaffeFixture();
        var tiny = CaffeFixture.TinyWeights();
        var v1 = new NetParameter { Name = "tiny" };
        foreach (var layer in tiny.Layer)
        {
            var legacy = new V1LayerParameter { Name = layer.Name, Type = V1LayerParameter.Types.LayerType.Relu };
            legacy.Blobs.AddRange(layer.Blobs);
            v1.Layers.Add(legacy);
        }

        var model = ReadTiny(fixture, v1);
        Assert.AreEqual(CaffeFixture.Value(3, 1, 2), Data(model, model.Graph.Nodes.Single(n => n.Name == "scale1").Inputs[2])[2]);
    }

    [TestMethod]
    public void A_missing_caffemodel_is_NM0001()
    {
        using var fixture = new CaffeFixture();
        var e = CaffeFixture.Throws(() => CaffeFixture.Read(fixture.Write("tiny.prototxt", CaffeFixture.Tiny), Path.Combine(Path.GetTempPath(), "does-not-exist.caffemodel")));
        Assert.AreEqual(DiagnosticCodes.FileNotFound.Code, e.Code);
    }
}
