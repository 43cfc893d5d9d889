using NeuralBuild.Engine.Diagnostics;
using NeuralBuild.Engine.Formats;
using NeuralBuild.Engine.Formats.Onnx.Export;
using NeuralBuild.Engine.Formats.Onnx.Proto;
using NeuralBuild.Engine.Ir;
using NeuralBuild.Engine.Tests.Support;

namespace NeuralBuild.Engine.Tests.Formats.Onnx.Export;

/// <summary>The exporter's options and file: opsets, the symbolic batch, external data, names and doc strings, ONNX models round-tripped.</summary>
[TestClass]
public sealed class OnnxExporterTests
{
    private const string TinyYolo = "[net]\nwidth=16\nheight=16\nchannels=3\n\n[convolutional]\nbatch_normalize=1\nfilters=8\nsize=3\nstride=1\npad=1\nactivation=leaky\n\n"
        + "[maxpool]\nsize=2\nstride=2\n\n[convolutional]\nfilters=16\nsize=1\nstride=1\npad=1\nactivation=linear\n\n"
        + "[yolo]\nmask=0,1\nanchors=10,14, 23,27, 37,58\nclasses=3\nnum=3\n\n[route]\nlayers=-3\n\n[upsample]\nstride=2\n\n[convolutional]\nfilters=16\nsize=1\nstride=1\npad=1\nactivation=linear\n\n"
        + "[yolo]\nmask=1,2\nanchors=10,14, 23,27, 37,58\nclasses=3\nnum=3\n";

    [TestMethod]
    [DataRow(12)]
    [DataRow(18)]
    public void An_opset_outside_13_to_17_is_NM0300(int opset)
    {
        using var temp = new TempDirectory();
        var model = OnnxRuntimeComparison.Darknet(temp.Path, TinyYolo);
        DiagnosticAssert.Throws(DiagnosticCodes.ExportOpsetUnsupported, () => OnnxExporter.Export(model, temp.Combine("m.onnx"), new OnnxExportOptions { Opset = opset }));
        Assert.IsFalse(File.Exists(temp.Combine("m.onnx")));
    }

    [TestMethod]
    [DataRow(13)]
    [DataRow(15)]
    [DataRow(17)]
    public void Every_supported_opset_checks_and_runs(int opset)
    {
        using var temp = new TempDirectory();
        var model = OnnxRuntimeComparison.Folded(OnnxRuntimeComparison.Darknet(temp.Path, TinyYolo));
        var result = OnnxRuntimeComparison.ExportAndCompare(model, temp.Path, new OnnxExportOptions { Opset = opset });
        var proto = ModelProto.Parser.ParseFrom(File.ReadAllBytes(result.OnnxPath!));
        Assert.AreEqual(opset, proto.OpsetImport.Single(o => o.Domain.Length == 0).Version);
    }

    [TestMethod]
    public void Names_and_doc_strings_come_from_the_source_layers()
    {
        using var temp = new TempDirectory();
        var model = OnnxRuntimeComparison.Folded(OnnxRuntimeComparison.Darknet(temp.Path, TinyYolo));
        var result = OnnxRuntimeComparison.ExportAndCompare(model, temp.Path);
        var proto = ModelProto.Parser.ParseFrom(File.ReadAllBytes(result.OnnxPath!));
        var cfgLines = File.ReadAllLines(model.DefinitionPath);

        // The first [yolo] is layer 3, on the line of its section header.
        var yoloLine = Array.IndexOf(cfgLines, "[yolo]") + 1;
        var yoloNodes = result.Layers.Single(l => l.Origin.Index == 3).OnnxNodes;
        Assert.IsNotEmpty(yoloNodes);
        foreach (var (name, _) in yoloNodes)
        {
            var node = proto.Graph.Node.Single(n => n.Name == name);
            StringAssert.Contains(node.DocString, $"model.cfg({yoloLine},1)");
            StringAssert.Contains(node.DocString, "[yolo]".Trim('[', ']'));
        }

        CollectionAssert.AreEqual(result.Outputs.Select(o => o.OnnxName).ToList(), proto.Graph.Output.Select(o => o.Name).ToList());
        Assert.AreEqual(proto.Graph.Node.Count, proto.Graph.Node.Select(n => n.Name).Distinct().Count(), "node names are unique");
        var input = proto.Graph.Input.Single();
        CollectionAssert.AreEqual(new long[] { 1, 3, 16, 16 }, input.Type.TensorType.Shape.Dim.Select(d => d.DimValue).ToArray());
        CollectionAssert.AreEqual(new long[] { 1, 16, 8, 8 }, proto.Graph.Output[0].Type.TensorType.Shape.Dim.Select(d => d.DimValue).ToArray());
    }

    [TestMethod]
    public void A_symbolic_batch_runs_at_another_batch()
    {
        using var temp = new TempDirectory();
        var model = OnnxRuntimeComparison.Folded(OnnxRuntimeComparison.Darknet(temp.Path, TinyYolo));
        var result = OnnxRuntimeComparison.ExportAndCompare(model, temp.Path, new OnnxExportOptions { SymbolicBatch = true });
        var proto = ModelProto.Parser.ParseFrom(File.ReadAllBytes(result.OnnxPath!));
        Assert.AreEqual("N", proto.Graph.Input.Single().Type.TensorType.Shape.Dim[0].DimParam);
        Assert.IsTrue(proto.Graph.Output.All(o => o.Type.TensorType.Shape.Dim[0].DimParam == "N"));

        // The same file, fed three images, computes what the IR read at batch 3 computes.
        var batch3 = OnnxRuntimeComparison.Folded(ModelFormats.Read(model.DefinitionPath, new ModelReadOptions { WeightsPath = model.WeightsPath, InputShape = Shape.Nchw(3, 3, 16, 16) }));
        OnnxRuntimeComparison.Compare(batch3, result);
    }

    [TestMethod]
    public void External_data_goes_beside_the_model_and_runs()
    {
        using var temp = new TempDirectory();
        var model = OnnxRuntimeComparison.Folded(OnnxRuntimeComparison.Darknet(temp.Path, TinyYolo));
        var result = OnnxRuntimeComparison.ExportAndCompare(model, temp.Path, new OnnxExportOptions { ExternalData = true }, name: "external");
        Assert.AreEqual(temp.Combine("external.onnx.data"), result.DataPath);
        var proto = ModelProto.Parser.ParseFrom(File.ReadAllBytes(result.OnnxPath!));
        var external = proto.Graph.Initializer.Where(t => t.DataLocation == TensorProto.Types.DataLocation.External).ToList();
        var weights = model.Graph.Initializers.Values.Sum(i => i.Shape.ElementCount);
        Assert.AreEqual(weights * sizeof(float), new FileInfo(result.DataPath!).Length, "every weight once, as float32");
        Assert.HasCount(model.Graph.Initializers.Count, external);
        Assert.IsEmpty(result.Warnings, "asked for: no NM2011");
    }

    [TestMethod]
    public void Without_weights_the_export_is_NM0305()
    {
        using var temp = new TempDirectory();
        var cfg = temp.WriteText("noweights.cfg", TinyYolo);
        DiagnosticAssert.Throws(DiagnosticCodes.ExportNoWeights, () => OnnxExporter.Export(ModelFormats.Read(cfg), temp.Combine("m.onnx"), new OnnxExportOptions()));
    }

    [TestMethod]
    [DataRow("squeezenet1_1")]
    [DataRow("mobilenet_v2")]
    [DataRow("googlenet")]
    public void An_onnx_model_read_folded_and_exported_again_runs_the_same(string name)
    {
        using var temp = new TempDirectory();
        var model = OnnxRuntimeComparison.Folded(ModelFormats.Read(OnnxExport.PathOf(name)));
        OnnxRuntimeComparison.ExportAndCompare(model, temp.Path);
    }
}
