using Google.Protobuf;
using NeuralBuild.Engine.Analysis;
using NeuralBuild.Engine.Execution;
using NeuralBuild.Engine.Formats.Caffe.Proto;
using NeuralBuild.Engine.Formats.Caffe;
using NeuralBuild.Engine.Formats;
using NeuralBuild.Engine.Ir;
using NeuralBuild.Engine.Numerics;

namespace NeuralBuild.SyntheticWeights;

/// <summary>
/// A .caffemodel for a prototxt with the same kind of values as <see cref="DarknetSyntheticWeights"/>:
/// He-scaled conv/FC weights, small biases, BatchNorm statistics stored as Caffe does (sums times a
/// moving-average factor, third blob) measured on a seeded forward pass, Scale gamma around 1 and
/// beta around 0. Statistics are
/// consistent with the weights: a BatchNorm channel with a tiny variance gets the filter row of the
/// conv / FC that feeds it, and its running mean, scaled down to match (a dead channel, docs/design-notes.md).
/// Each layer draws from its own seeded stream, so values do not depend on the layer order.
/// </summary>
public static class CaffeSyntheticWeights
{
    public static long Write(Model model, string path, SyntheticWeightsOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        var net = Create(model, options);
        var temp = path + ".tmp";
        try
        {
            Save(net, temp);
            Calibrate(model, temp, net, options ?? new SyntheticWeightsOptions());
            Save(net, temp);
            File.Move(temp, path, overwrite: true);
        }
        finally
        {
            File.Delete(temp);
        }

        return new FileInfo(path).Length;
    }

    private static void Save(NetParameter net, string path)
    {
        using var stream = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 20);
        net.WriteTo(stream);
    }

    /// <summary>
    /// Trained BatchNorm statistics describe the activations they normalise. One forward pass on a
    /// seeded random image, node by node: each BatchNorm's mean and variance become the per-channel
    /// mean and variance of its actual input before it runs (the drawn variances only shaped the
    /// filters, so a dead channel keeps its tiny variance). Without this the stored statistics are
    /// unrelated to the activations, deep residual networks drift far from unit scale, and float32
    /// rounding differences grow with depth.
    /// </summary>
    /// <remarks>
    /// Statistics need samples: SSD's last extra layers are 2x2 and 1x1, where one image gives one
    /// value per channel, a variance of 0, and a BatchNorm that multiplies by 1/sqrt(eps). The pass runs
    /// as many images (at most 8) as give every BatchNorm at least 64 values per channel.
    /// </remarks>
    private static void Calibrate(Model model, string weightsPath, NetParameter net, SyntheticWeightsOptions options)
    {
        var shapes = ShapeInference.Run(model.Graph);
        var declared = model.Graph.Inputs.First().Value;
        var smallestPlane = model.Graph.Nodes
            .Where(n => n.OpType == "BatchNormalization")
            .Select(n => shapes[n.Inputs[0]])
            .Select(s => s.ElementCount / s[0] / s[1])
            .DefaultIfEmpty(64)
            .Min();
        var images = (long)Math.Clamp(Math.Ceiling(64.0 / Math.Max(1, smallestPlane)), 1, 8);
        var loaded = ModelFormats.Read(model.DefinitionPath, new ModelReadOptions { WeightsPath = weightsPath, InputShape = declared.WithDim(0, declared[0] * images) });
        var graph = loaded.Graph;
        var caffe = (CaffeModel)loaded.SourceDocument!;
        var random = new SplitMix64(options.Seed ^ 0x5851F42D4C957F2DUL);
        var live = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        foreach (var (name, shape) in graph.Inputs)
        {
            var values = new float[shape.ElementCount];
            Fill(values, random.Normal);
            live[name] = new Tensor(shape, values);
        }

        var layers = net.Layer.ToDictionary(l => l.Name, StringComparer.Ordinal);
        var layerOfNode = caffe.Layers.Where(l => l.Node is not null).ToDictionary(l => l.Node!, StringComparer.Ordinal);
        foreach (var node in graph.Nodes)
        {
            if (node.OpType == "BatchNormalization" && layerOfNode.TryGetValue(node.Name, out var layer))
            {
                var (mean, variance) = Statistics(live[node.Inputs[0]]);
                var stored = layers[layer.Layer.Name];
                var factor = stored.Blobs[2].Data[0];
                stored.Blobs[0] = Blob(new Shape(mean.Length), [.. mean.Select(m => (float)(m * factor))]);
                stored.Blobs[1] = Blob(new Shape(mean.Length), [.. variance.Select(v => (float)(v * factor))]);
                graph.Initializers[node.Inputs[3]].Data = new ArrayData([.. mean.Select(m => (float)m)]);
                graph.Initializers[node.Inputs[4]].Data = new ArrayData([.. variance.Select(v => (float)v)]);
            }

            var single = new Graph();
            foreach (var input in node.Inputs.Where(i => i.Length > 0).Distinct(StringComparer.Ordinal))
            {
                if (graph.Initializers.TryGetValue(input, out var initializer))
                {
                    single.Initializers[input] = initializer;
                }
                else
                {
                    single.Inputs[input] = live[input].Shape;
                }
            }

            single.Nodes.Add(node);
            single.Outputs.AddRange(node.Outputs);
            var results = new ReferenceExecutor(single).Run(single.Inputs.Keys.ToDictionary(k => k, k => live[k], StringComparer.Ordinal));
            foreach (var output in node.Outputs)
            {
                live[output] = results[output];
            }
        }
    }

    /// <summary>Per-channel mean and (population) variance over batch and positions, in double.</summary>
    private static (double[] Mean, double[] Variance) Statistics(Tensor x)
    {
        var channels = (int)x.Shape[1];
        var batch = (int)x.Shape[0];
        var plane = (int)(x.Shape.ElementCount / batch / channels);
        var mean = new double[channels];
        var variance = new double[channels];
        for (var c = 0; c < channels; c++)
        {
            double sum = 0, squares = 0;
            for (var n = 0; n < batch; n++)
            {
                var offset = ((n * channels) + c) * plane;
                for (var i = 0; i < plane; i++)
                {
                    double v = x.Data[offset + i];
                    sum += v;
                    squares += v * v;
                }
            }

            var count = (double)batch * plane;
            mean[c] = sum / count;
            variance[c] = Math.Max(0, (squares / count) - (mean[c] * mean[c]));
        }

        return (mean, variance);
    }

    public static NetParameter Create(Model model, SyntheticWeightsOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        options ??= new SyntheticWeightsOptions();
        var caffe = (CaffeModel)model.SourceDocument!;
        var producers = model.Graph.BuildProducers();

        // Pass 1: BatchNorm variances, remembered for the layer whose output they normalise.
        var variances = new Dictionary<string, double[]>(StringComparer.Ordinal);
        var bnVariances = new Dictionary<CaffeLayer, double[]>();
        foreach (var layer in caffe.Layers.Where(l => l.Layer.Type == "BatchNorm" && l.Node is not null))
        {
            var random = Stream(options, layer, 1);
            var channels = (int)layer.Blobs.Single(b => b.Index == 1).Shape.ElementCount;
            var v = Enumerable.Range(0, channels).Select(_ => Variance(random, options)).ToArray();
            bnVariances[layer] = v;
            var bn = model.Graph.Nodes.Single(n => n.Name == layer.Node);
            if (producers.TryGetValue(bn.Inputs[0], out var producer))
            {
                variances[producer.Name] = v;
            }
        }

        var net = new NetParameter { Name = caffe.Net.Name };
        foreach (var layer in caffe.Layers.Where(l => l.Blobs.Count > 0))
        {
            var random = Stream(options, layer, 0);
            var parameter = new LayerParameter { Name = layer.Layer.Name, Type = layer.Layer.Type };
            foreach (var slot in layer.Blobs.OrderBy(b => b.Index))
            {
                var count = slot.Shape.ElementCount;
                var values = new float[count];
                switch (layer.Layer.Type, slot.Role)
                {
                    case ("BatchNorm", "mean"):
                    case ("BatchNorm", "variance"):
                    case ("BatchNorm", "moving_average_factor"):
                        break; // Below, together.
                    case (_, "weights"):
                        var fanIn = Math.Max(1, count / Math.Max(1, FanOutAxis(layer, slot.Shape)));
                        var dead = layer.Node is not null ? variances.GetValueOrDefault(layer.Node) : null;
                        for (long i = 0; i < count; i++)
                        {
                            var w = random.Normal() * Math.Sqrt(2.0 / fanIn);
                            if (dead is not null)
                            {
                                w *= Math.Sqrt(Math.Min(1.0, dead[OutputChannel(layer, slot.Shape, i, dead.Length)]));
                            }

                            values[i] = (float)w;
                        }

                        break;
                    case ("Scale", "scale"):
                        Fill(values, () => random.Uniform(0.5, 1.5));
                        break;
                    case ("Normalize", "scale"):
                        Fill(values, () => random.Uniform(10, 20));
                        break;
                    case (_, "slope"):
                        Fill(values, () => random.Uniform(0, 0.3));
                        break;
                    default:
                        Fill(values, () => random.Normal() * 0.05);
                        break;
                }

                parameter.Blobs.Add(Blob(slot.Shape, values));
            }

            if (layer.Layer.Type == "BatchNorm")
            {
                // Caffe stores sums: mean * f, var * f with f the moving-average factor (999.98… after training).
                var v = bnVariances[layer];
                var factor = (float)random.Uniform(1, 1000);
                // A dead channel's filter is tiny, so its running mean is as small as its spread.
                var means = v.Select(x => (float)(random.Normal() * 0.1 * Math.Sqrt(Math.Min(1.0, x)) * factor)).ToArray();
                parameter.Blobs[0] = Blob(new Shape(v.Length), means);
                parameter.Blobs[1] = Blob(new Shape(v.Length), [.. v.Select(x => (float)(x * factor))]);
                parameter.Blobs[2] = Blob(new Shape(1), [factor]);
            }

            net.Layer.Add(parameter);
        }

        return net;
    }

    private static SplitMix64 Stream(SyntheticWeightsOptions options, CaffeLayer layer, ulong salt) =>
        new(options.Seed ^ (0x9E3779B97F4A7C15UL * (ulong)(layer.Index + 1)) ^ (salt * 0xD1B54A32D192ED03UL));

    /// <summary>Output channels of a weight blob: axis 0 (conv, FC), axis 1 × groups (deconv), axis 1 (transposed FC).</summary>
    private static long FanOutAxis(CaffeLayer layer, Shape shape) => layer.Layer.Type switch
    {
        "Deconvolution" => shape[1] * Math.Max(1u, layer.Layer.ConvolutionParam?.Group ?? 1),
        "InnerProduct" when layer.Layer.InnerProductParam?.Transpose == true => shape[1],
        _ => shape[0],
    };

    private static int OutputChannel(CaffeLayer layer, Shape shape, long i, int channels)
    {
        switch (layer.Layer.Type)
        {
            case "Deconvolution":
                var spatial = shape[2] * shape[3];
                var block = i / spatial;
                var outPerGroup = shape[1];
                var inPerGroup = shape[0] / Math.Max(1u, layer.Layer.ConvolutionParam?.Group ?? 1);
                return (int)(((block / outPerGroup / inPerGroup) * outPerGroup) + (block % outPerGroup));
            case "InnerProduct" when layer.Layer.InnerProductParam?.Transpose == true:
                return (int)(i % shape[1]);
            default:
                return (int)(i / (shape.ElementCount / channels));
        }
    }

    private static double Variance(SplitMix64 random, SyntheticWeightsOptions options) =>
        random.NextDouble() < options.NearZeroVarianceFraction
            ? Math.Pow(10, random.Uniform(-6, -3))
            : random.Uniform(0.5, 2.0);

    private static void Fill(float[] values, Func<double> next)
    {
        for (var i = 0; i < values.Length; i++)
        {
            values[i] = (float)next();
        }
    }

    private static BlobProto Blob(Shape shape, float[] values)
    {
        var blob = new BlobProto { Shape = new BlobShape() };
        blob.Shape.Dim.AddRange(shape.Dims);
        blob.Data.AddRange(values);
        return blob;
    }
}
