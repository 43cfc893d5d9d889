using System.Buffers.Binary;
using NeuralBuild.Engine.Formats.Darknet;
using NeuralBuild.Engine.Ir;
using NeuralBuild.Engine.Numerics;

namespace NeuralBuild.SyntheticWeights;

/// <summary>Knobs of the generated statistics.</summary>
public sealed record SyntheticWeightsOptions
{
    public ulong Seed { get; init; } = 1;

    /// <summary>Fraction of BN channels given a tiny variance (1e-6 … 1e-3), where dialects disagree most.</summary>
    public double NearZeroVarianceFraction { get; init; } = 0.02;

    /// <summary>Header written: AlexeyAB's 0.2.5 with a 64-bit <c>seen</c>.</summary>
    public DarknetWeightsHeader Header { get; init; } = new(0, 2, 5, 0);
}

/// <summary>
/// Writes a .weights file for a Darknet cfg with realistic values: He-scaled conv/FC weights (so
/// activations keep unit scale through 100+ layers), small biases, BN gamma around 1, means around
/// 0, variances around 1 with a few near zero. Statistics are consistent with the weights: a
/// channel whose running variance is tiny gets filters scaled down to match (a dead channel, as in
/// trained models), instead of a unit-variance channel divided by sqrt(1e-5) — which would blow
/// activations up by ~300x per layer, something no trained network does. Streams: memory stays
/// flat for any size.
/// </summary>
public static class DarknetSyntheticWeights
{
    public static long Write(Model model, string path, SyntheticWeightsOptions? options = null)
    {
        options ??= new SyntheticWeightsOptions();
        var darknet = (DarknetModel)model.SourceDocument!;
        var random = new SplitMix64(options.Seed);
        var temp = path + ".tmp";
        long written;
        using (var stream = new FileStream(temp, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 20))
        {
            var header = new byte[options.Header.ByteLength];
            options.Header.Write(header);
            stream.Write(header);
            var buffer = new byte[1 << 16];
            foreach (var layer in darknet.Layers)
            {
                // Variances are drawn first (they decide the filter scale) from a per-layer stream,
                // so the file order of the tensors does not change the values.
                var layerRandom = new SplitMix64(options.Seed ^ (0x9E3779B97F4A7C15UL * (ulong)(layer.Index + 1)));
                var varianceName = layer.StoredTensors.FirstOrDefault(n => n.EndsWith("/rolling_variance", StringComparison.Ordinal));
                var variances = varianceName is null ? null
                    : Enumerable.Range(0, (int)model.Graph.Initializers[varianceName].Shape.ElementCount).Select(_ => Variance(layerRandom, options)).ToArray();
                foreach (var name in layer.StoredTensors)
                {
                    var initializer = model.Graph.Initializers[name];
                    var role = name[(name.IndexOf('/', StringComparison.Ordinal) + 1)..];
                    if (role == "rolling_variance" && variances is not null)
                    {
                        var i = 0;
                        WriteTensor(stream, buffer, initializer.Shape.ElementCount, () => variances[i++]);
                        continue;
                    }

                    var fanIn = FanIn(initializer.Shape, role);
                    var perRow = role == "weights" && variances is not null && initializer.Shape[0] == variances.Length
                        ? initializer.Shape.ElementCount / variances.Length : 0;
                    long k = 0;
                    WriteTensor(stream, buffer, initializer.Shape.ElementCount, () =>
                    {
                        var value = Sample(random, role, fanIn);
                        return perRow > 0 ? (float)(value * Math.Sqrt(Math.Min(1.0, variances![k++ / perRow]))) : value;
                    });
                }
            }

            written = stream.Length;
        }

        File.Move(temp, path, overwrite: true);
        return written;
    }

    private static long FanIn(Shape shape, string role) => role == "weights" && shape.Rank >= 2
        ? Math.Max(1, shape.ElementCount / shape[0])
        : 1;

    private static float Sample(SplitMix64 random, string role, long fanIn) => role switch
    {
        "weights" => (float)(random.Normal() * Math.Sqrt(2.0 / fanIn)),
        "biases" => (float)(random.Normal() * 0.05),
        "scales" => (float)random.Uniform(0.5, 1.5),
        "rolling_mean" => (float)(random.Normal() * 0.1),
        _ => (float)(random.Normal() * 0.1),
    };

    private static float Variance(SplitMix64 random, SyntheticWeightsOptions options) =>
        random.NextDouble() < options.NearZeroVarianceFraction
            ? (float)Math.Pow(10, random.Uniform(-6, -3))
            : (float)random.Uniform(0.5, 2.0);

    private static void WriteTensor(Stream stream, byte[] buffer, long count, Func<float> next)
    {
        var filled = 0;
        for (long i = 0; i < count; i++)
        {
            BinaryPrimitives.WriteSingleLittleEndian(buffer.AsSpan(filled), next());
            filled += 4;
            if (filled == buffer.Length)
            {
                stream.Write(buffer, 0, filled);
                filled = 0;
            }
        }

        stream.Write(buffer, 0, filled);
    }
}
