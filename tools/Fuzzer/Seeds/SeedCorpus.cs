using Google.Protobuf;
using NeuralBuild.Engine.Diagnostics;
using NeuralBuild.Engine.Formats;
using NeuralBuild.Engine.Formats.Onnx.Proto;
using NeuralBuild.Engine.Tests.Formats.Onnx;
using NeuralBuild.SyntheticWeights;

namespace NeuralBuild.Fuzzer.Seeds;

/// <summary>
/// The valid models every run starts from, generated the same way on every machine: shrunk corpus
/// cfgs and prototxts with seeded synthetic weights, a hand-written Caffe net, and ONNX models built
/// in code. Nothing binary is committed.
/// </summary>
public static class SeedCorpus
{
    public static IReadOnlyList<string> Formats { get; } = ["darknet", "caffe", "onnx"];

    private static string SeedFolder(string format) => Path.Combine(AppContext.BaseDirectory, "seeds", format);

    /// <summary>The format's seeds; a corpus model the engine cannot read once shrunk is left out, with why, in <paramref name="dropped"/>.</summary>
    public static IReadOnlyList<SeedModel> Build(string format, string scratch, ICollection<string> dropped) => format switch
    {
        "darknet" => Darknet(scratch, dropped),
        "caffe" => Caffe(scratch, dropped),
        "onnx" => Onnx(),
        _ => throw new ArgumentException($"unknown format '{format}'; one of {string.Join(", ", Formats)}", nameof(format)),
    };

    private static List<SeedModel> Darknet(string scratch, ICollection<string> dropped)
    {
        var seeds = new List<SeedModel>();
        foreach (var path in Directory.GetFiles(SeedFolder("darknet"), "*.cfg").Order(StringComparer.Ordinal))
        {
            var cfg = CfgShrinker.Shrink(File.ReadAllText(path));
            AddIfReadable(seeds, dropped, () => WithWeights("darknet", Path.GetFileNameWithoutExtension(path), "model.cfg", cfg, scratch));
        }

        return seeds;
    }

    private static List<SeedModel> Caffe(string scratch, ICollection<string> dropped)
    {
        var seeds = new List<SeedModel>
        {
            WithWeights("caffe", "tiny-bn-concat-eltwise", "model.prototxt", TinyCaffeNet, scratch),
        };
        foreach (var path in Directory.GetFiles(SeedFolder("caffe"), "*.prototxt").Order(StringComparer.Ordinal))
        {
            var prototxt = PrototxtShrinker.Shrink(File.ReadAllText(path));
            AddIfReadable(seeds, dropped, () => WithWeights("caffe", Path.GetFileName(path).Replace(".deploy.prototxt", string.Empty, StringComparison.Ordinal), "model.prototxt", prototxt, scratch));
        }

        return seeds;
    }

    private static void AddIfReadable(List<SeedModel> seeds, ICollection<string> dropped, Func<SeedModel> build)
    {
        try
        {
            seeds.Add(build());
        }
        catch (NeuralException e)
        {
            dropped.Add(e.Diagnostic.ToString());
        }
    }

    private static SeedModel WithWeights(string format, string name, string definitionName, string definition, string scratch)
    {
        var bytes = CfgShrinker.Utf8(definition);
        var weights = SyntheticWeightsFor(definitionName, bytes, Path.Combine(scratch, "seed-" + name));
        var weightsName = Path.GetFileName(ModelFormats.ForPath(definitionName).DefaultWeightsPath(definitionName));
        return new SeedModel(format, name, [new FuzzFile(definitionName, bytes), new FuzzFile(weightsName, weights)]);
    }

    /// <summary>Seeded synthetic weights (tools/SyntheticWeights) for a Darknet or Caffe definition; throws what the engine throws for one it cannot read.</summary>
    public static byte[] SyntheticWeightsFor(string definitionName, byte[] definition, string folder)
    {
        Directory.CreateDirectory(folder);
        try
        {
            var definitionPath = Path.Combine(folder, definitionName);
            File.WriteAllBytes(definitionPath, definition);
            var format = ModelFormats.ForPath(definitionPath);
            var weightsPath = format.DefaultWeightsPath(definitionPath);
            var model = ModelFormats.Read(definitionPath);
            _ = format.Name == "caffe" ? CaffeSyntheticWeights.Write(model, weightsPath) : DarknetSyntheticWeights.Write(model, weightsPath);
            return File.ReadAllBytes(weightsPath);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    /// <summary>conv+BatchNorm+Scale+ReLU, pooling, two branches concatenated, a residual Eltwise, InnerProduct, Softmax.</summary>
    private const string TinyCaffeNet = """
        name: "tiny"
        input: "data"
        input_shape { dim: 1 dim: 3 dim: 16 dim: 16 }
        layer { name: "conv1" type: "Convolution" bottom: "data" top: "conv1" convolution_param { num_output: 4 kernel_size: 3 pad: 1 bias_term: false } }
        layer { name: "bn1" type: "BatchNorm" bottom: "conv1" top: "conv1" batch_norm_param { use_global_stats: true } }
        layer { name: "scale1" type: "Scale" bottom: "conv1" top: "conv1" scale_param { bias_term: true } }
        layer { name: "relu1" type: "ReLU" bottom: "conv1" top: "conv1" }
        layer { name: "pool1" type: "Pooling" bottom: "conv1" top: "pool1" pooling_param { pool: MAX kernel_size: 2 stride: 2 } }
        layer { name: "a" type: "Convolution" bottom: "pool1" top: "a" convolution_param { num_output: 2 kernel_size: 1 } }
        layer { name: "b" type: "Convolution" bottom: "pool1" top: "b" convolution_param { num_output: 2 kernel_size: 3 pad: 1 group: 2 } }
        layer { name: "cat" type: "Concat" bottom: "a" bottom: "b" top: "cat" }
        layer { name: "sum" type: "Eltwise" bottom: "cat" bottom: "pool1" top: "sum" eltwise_param { operation: SUM } }
        layer { name: "fc" type: "InnerProduct" bottom: "sum" top: "fc" inner_product_param { num_output: 3 } }
        layer { name: "prob" type: "Softmax" bottom: "fc" top: "prob" }
        """;

    private static List<SeedModel> Onnx() =>
    [
        OnnxSeed("conv-bn-relu-pool", TinyOnnx.Model(13,
            [
                TinyOnnx.Node("Conv", "conv", ["x", "w", "b"], ["c"], TinyOnnx.Ints("pads", 1, 1, 1, 1)),
                TinyOnnx.Node("BatchNormalization", "bn", ["c", "scale", "bias", "mean", "var"], ["n"]),
                TinyOnnx.Node("Relu", "relu", ["n"], ["r"]),
                TinyOnnx.Node("MaxPool", "pool", ["r"], ["y"], TinyOnnx.Ints("kernel_shape", 2, 2), TinyOnnx.Ints("strides", 2, 2)),
            ],
            [
                TinyOnnx.Random("w", 1, -0.5, 0.5, 4, 3, 3, 3), TinyOnnx.Random("b", 2, -0.1, 0.1, 4),
                TinyOnnx.Random("scale", 3, 0.5, 1.5, 4), TinyOnnx.Random("bias", 4, -0.1, 0.1, 4),
                TinyOnnx.Random("mean", 5, -0.1, 0.1, 4), TinyOnnx.Random("var", 6, 0.5, 1.5, 4),
            ])),
        OnnxSeed("residual-gemm-softmax", TinyOnnx.Model(13,
            [
                TinyOnnx.Node("Conv", "conv", ["x", "w"], ["c"], TinyOnnx.Ints("pads", 1, 1, 1, 1), TinyOnnx.Ints("kernel_shape", 3, 3)),
                TinyOnnx.Node("BatchNormalization", "bn", ["c", "scale", "bias", "mean", "var"], ["n"], TinyOnnx.Int("training_mode", 0)),
                TinyOnnx.Node("Add", "add", ["n", "x"], ["s"]),
                TinyOnnx.Node("Relu", "relu", ["s"], ["r"]),
                TinyOnnx.Node("GlobalAveragePool", "gap", ["r"], ["g"]),
                TinyOnnx.Node("Flatten", "flat", ["g"], ["f"], TinyOnnx.Int("axis", 1)),
                TinyOnnx.Node("Gemm", "fc", ["f", "fw", "fb"], ["l"], TinyOnnx.Int("transB", 1)),
                TinyOnnx.Node("Softmax", "softmax", ["l"], ["y"], TinyOnnx.Int("axis", 1)),
            ],
            [
                TinyOnnx.Random("w", 7, -0.3, 0.3, 3, 3, 3, 3),
                TinyOnnx.Random("scale", 8, 0.5, 1.5, 3), TinyOnnx.Random("bias", 9, -0.1, 0.1, 3),
                TinyOnnx.Random("mean", 10, -0.1, 0.1, 3), TinyOnnx.Random("var", 11, 0.5, 1.5, 3),
                TinyOnnx.Random("fw", 12, -0.5, 0.5, 5, 3), TinyOnnx.Random("fb", 13, -0.1, 0.1, 5),
            ])),
        OnnxSeed("branches-concat-reshape", TinyOnnx.Model(13,
            [
                TinyOnnx.Node("Conv", "left", ["x", "wl"], ["a"], TinyOnnx.Ints("strides", 2, 2)),
                TinyOnnx.Node("Conv", "right", ["x", "wr"], ["b"], TinyOnnx.Ints("strides", 2, 2), TinyOnnx.Int("group", 3)),
                TinyOnnx.Node("Concat", "cat", ["a", "b"], ["c"], TinyOnnx.Int("axis", 1)),
                TinyOnnx.Node("AveragePool", "avg", ["c"], ["p"], TinyOnnx.Ints("kernel_shape", 2, 2), TinyOnnx.Ints("strides", 1, 1)),
                TinyOnnx.Node("Reshape", "reshape", ["p", "shape"], ["y"]),
            ],
            [TinyOnnx.Random("wl", 14, -0.5, 0.5, 2, 3, 1, 1), TinyOnnx.Random("wr", 15, -0.5, 0.5, 3, 1, 1, 1), TinyOnnx.Int64s("shape", 1, -1)])),
    ];

    private static SeedModel OnnxSeed(string name, ModelProto model) => new("onnx", name, [new FuzzFile("model.onnx", model.ToByteArray())]);
}
