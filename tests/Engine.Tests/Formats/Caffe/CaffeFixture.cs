using Google.Protobuf;
using NeuralBuild.Engine.Diagnostics;
using NeuralBuild.Engine.Formats;
using NeuralBuild.Engine.Formats.Caffe;
using NeuralBuild.Engine.Formats.Caffe.Proto;
using NeuralBuild.Engine.Ir;

namespace NeuralBuild.Engine.Tests.Formats.Caffe;

/// <summary>
/// Small Caffe models for tests: prototxt written to a per-test temp folder, and caffemodels built
/// with Google.Protobuf from deterministic values (nothing binary is committed).
/// </summary>
internal sealed class CaffeFixture : IDisposable
{
    /// <summary>
    /// conv (no bias) → BatchNorm → Scale(bias) → ReLU, all in place on "conv1"; 3x3/2 max pooling
    /// (Caffe rounds up: 8x8 → ceil((8-3)/2)+1 = 4x4); InnerProduct 64 → 5; Softmax.
    /// </summary>
    public const string Tiny = """
        name: "tiny"
        input: "data"
        input_shape { dim: 1 dim: 3 dim: 8 dim: 8 }
        layer {
          name: "conv1"
          type: "Convolution"
          bottom: "data"
          top: "conv1"
          convolution_param { num_output: 4 kernel_size: 3 pad: 1 bias_term: false }
        }
        layer { name: "bn1" type: "BatchNorm" bottom: "conv1" top: "conv1" batch_norm_param { eps: 0.001 } }
        layer { name: "scale1" type: "Scale" bottom: "conv1" top: "conv1" scale_param { bias_term: true } }
        layer { name: "relu1" type: "ReLU" bottom: "conv1" top: "conv1" }
        layer {
          name: "pool1"
          type: "Pooling"
          bottom: "conv1"
          top: "pool1"
          pooling_param { pool: MAX kernel_size: 3 stride: 2 }
        }
        layer { name: "fc" type: "InnerProduct" bottom: "pool1" top: "fc" inner_product_param { num_output: 5 } }
        layer { name: "prob" type: "Softmax" bottom: "fc" top: "prob" }
        """;

    private readonly string _dir = Path.Combine(Path.GetTempPath(), "neuralbuild-caffe-tests", Guid.NewGuid().ToString("N"));

    public CaffeFixture() => Directory.CreateDirectory(_dir);

    public string Write(string name, string text)
    {
        var path = Path.Combine(_dir, name);
        File.WriteAllText(path, text);
        return path;
    }

    public string Write(string name, byte[] bytes)
    {
        var path = Path.Combine(_dir, name);
        File.WriteAllBytes(path, bytes);
        return path;
    }

    public static Model Read(string path, string? weights = null, string? input = null) =>
        ModelFormats.Read(path, new ModelReadOptions { WeightsPath = weights, InputShape = input is null ? null : Shape.Parse(input) });

    public Model ReadText(string prototxt, string? weights = null, string? input = null) => Read(Write("net.prototxt", prototxt), weights, input);

    /// <summary>Deterministic values: blob b of layer l, element i.</summary>
    public static float Value(int layer, int blob, int i) => (((((layer * 31) + blob) * 7919) + (i * 104729)) % 2001 - 1000) / 1000f;

    public static BlobProto Blob(int layer, int index, params long[] shape)
    {
        var blob = new BlobProto { Shape = new BlobShape() };
        blob.Shape.Dim.AddRange(shape);
        var count = shape.Aggregate(1L, (a, b) => a * b);
        for (var i = 0; i < count; i++)
        {
            blob.Data.Add(Value(layer, index, i));
        }

        return blob;
    }

    public static BlobProto Constant(float value, params long[] shape)
    {
        var blob = new BlobProto { Shape = new BlobShape() };
        blob.Shape.Dim.AddRange(shape);
        blob.Data.Add(Enumerable.Repeat(value, (int)shape.Aggregate(1L, (a, b) => a * b)));
        return blob;
    }

    public static LayerParameter Layer(string name, string type, params BlobProto[] blobs)
    {
        var layer = new LayerParameter { Name = name, Type = type };
        layer.Blobs.AddRange(blobs);
        return layer;
    }

    /// <summary>A caffemodel for <see cref="Tiny"/> with the BN moving-average factor <paramref name="factor"/>.</summary>
    public static NetParameter TinyWeights(float factor = 2f)
    {
        var net = new NetParameter { Name = "tiny" };
        net.Layer.Add(Layer("data", "Input"));
        net.Layer.Add(Layer("conv1", "Convolution", Blob(1, 0, 4, 3, 3, 3)));
        net.Layer.Add(Layer("bn1", "BatchNorm", Blob(2, 0, 4), Constant(3f, 4), Constant(factor, 1)));
        net.Layer.Add(Layer("scale1", "Scale", Blob(3, 0, 4), Blob(3, 1, 4)));
        net.Layer.Add(Layer("relu1", "ReLU"));
        net.Layer.Add(Layer("fc", "InnerProduct", Blob(6, 0, 5, 64), Blob(6, 1, 5)));
        net.Layer.Add(Layer("loss", "SoftmaxWithLoss"));
        return net;
    }

    public static NeuralException Throws(Action action) => Assert.ThrowsExactly<NeuralException>(action);

    public static void AssertAt(NeuralException e, DiagnosticDescriptor code, int line, int column)
    {
        Assert.AreEqual(code.Code, e.Code, e.ToString());
        Assert.AreEqual(line, e.Location.Line, e.ToString());
        Assert.AreEqual(column, e.Location.Column, e.ToString());
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(_dir, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
