using NeuralBuild.Engine.Formats;
using NeuralBuild.Engine.Formats.Darknet;
using NeuralBuild.Engine.Ir;
using NeuralBuild.SyntheticWeights;

namespace NeuralBuild.Engine.Tests.Execution;

/// <summary>
/// A Darknet cfg with seeded synthetic weights and a seeded input, written to a work directory so
/// that libdarknet and the reference executor read the very same files.
/// </summary>
internal sealed class DarknetTestModel
{
    private DarknetTestModel(string cfg, string weights, Shape inputShape, float[] input)
    {
        Cfg = cfg;
        Weights = weights;
        InputShape = inputShape;
        Input = input;
    }

    public string Cfg { get; }

    public string Weights { get; }

    public Shape InputShape { get; }

    public float[] Input { get; }

    /// <summary>
    /// Writes weights for <paramref name="cfg"/> (pjreddie layout). <paramref name="residualGain"/>
    /// scales gamma and beta of the BatchNorm that ends each residual branch (the layer feeding a
    /// [shortcut]): synthetic statistics do not describe the activations they meet, so without it
    /// every residual block doubles the activation variance and after yolov3's 23 blocks values
    /// reach 1e5, where float32 rounding, not the kernels, decides the low digits. Trained networks
    /// keep those gains small for the same reason. Inputs are uniform in [offset, offset + scale).
    /// </summary>
    public static DarknetTestModel Create(string cfg, string workDir, ulong seed, double? nearZeroVariance = null, float residualGain = 0.1f, float inputScale = 1, float inputOffset = 0)
    {
        Directory.CreateDirectory(workDir);
        var weights = Path.Combine(workDir, Path.GetFileNameWithoutExtension(cfg) + ".weights");
        var model = ModelFormats.Read(cfg, new ModelReadOptions { DarknetDialect = DarknetDialect.Pjreddie });
        var options = new SyntheticWeightsOptions { Seed = seed };
        DarknetSyntheticWeights.Write(model, weights, nearZeroVariance is { } fraction ? options with { NearZeroVarianceFraction = fraction } : options);
        if (residualGain != 1)
        {
            DampResidualBranches(cfg, weights, residualGain);
        }

        var shape = model.Graph.Inputs.Values.Single();
        var random = new Random(unchecked((int)seed));
        var input = new float[shape.ElementCount];
        for (var i = 0; i < input.Length; i++)
        {
            input[i] = (float)((random.NextDouble() * inputScale) + inputOffset);
        }

        return new DarknetTestModel(cfg, weights, shape, input);
    }

    public Model Open(DarknetDialect dialect) =>
        ModelFormats.Read(Cfg, new ModelReadOptions { WeightsPath = Weights, DarknetDialect = dialect });

    private static void DampResidualBranches(string cfg, string weights, float gain)
    {
        var model = ModelFormats.Read(cfg, new ModelReadOptions { WeightsPath = weights, DarknetDialect = DarknetDialect.Pjreddie });
        var producers = model.Graph.BuildProducers();
        using var file = new FileStream(weights, FileMode.Open, FileAccess.ReadWrite);
        // The [shortcut] layers' adds (an Add of equal shapes, a Shortcut otherwise), not their activations.
        foreach (var shortcut in model.Graph.Nodes.Where(n => n.Origin.Kind == "shortcut" && n.OpType != "Activation"))
        {
            var layer = producers[shortcut.Inputs[0]].Origin.Index;
            foreach (var role in new[] { "scales", "biases" })
            {
                if (!model.Graph.Initializers.TryGetValue($"layer{layer}/{role}", out var initializer) || initializer.Data is not FileSliceData slice)
                {
                    continue;
                }

                var values = slice.ToArray();
                for (var i = 0; i < values.Length; i++)
                {
                    values[i] *= gain;
                }

                var bytes = new byte[values.Length * sizeof(float)];
                Buffer.BlockCopy(values, 0, bytes, 0, bytes.Length);
                file.Position = slice.Offset;
                file.Write(bytes);
            }
        }
    }
}
