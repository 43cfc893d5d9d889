using NeuralBuild.Engine.Tests.Support;

namespace NeuralBuild.Engine.Tests.Passes;

/// <summary>Darknet weights in file order (pjreddie layout), seeded, with chosen channels' BatchNorm scale set to 0; <see cref="Floats"/> what was written, for tests that compute from the weights themselves.</summary>
internal sealed class DarknetWeights(int seed)
{
    private readonly Random _random = new(seed);
    private readonly List<float> _floats = [];

    public IReadOnlyList<float> Floats => _floats;

    /// <summary>A conv layer: with BatchNorm beta, gamma, mean, variance, then the weights; without, bias and weights.</summary>
    public void Conv(int inputs, int filters, int size, int[]? dead = null, float deadBeta = 0, bool batchNormalize = true)
    {
        var deadSet = new HashSet<int>(dead ?? []);
        if (batchNormalize)
        {
            _floats.AddRange(Enumerable.Range(0, filters).Select(c => deadSet.Contains(c) ? deadBeta : Uniform(-0.5, 0.5)));
            _floats.AddRange(Enumerable.Range(0, filters).Select(c => deadSet.Contains(c) ? 0f : Uniform(0.5, 1.5)));
            _floats.AddRange(Enumerable.Range(0, filters).Select(_ => Uniform(-0.2, 0.2)));
            _floats.AddRange(Enumerable.Range(0, filters).Select(_ => Uniform(0.5, 1.5)));
        }
        else
        {
            _floats.AddRange(Enumerable.Range(0, filters).Select(_ => Uniform(-0.5, 0.5)));
        }

        _floats.AddRange(Enumerable.Range(0, filters * inputs * size * size).Select(_ => Uniform(-0.3, 0.3)));
    }

    /// <summary>A connected layer: bias (beta), weights, then with BatchNorm gamma, mean, variance (darknet's order).</summary>
    public void Connected(int inputs, int outputs, int[]? dead = null, bool batchNormalize = true)
    {
        var deadSet = new HashSet<int>(dead ?? []);
        _floats.AddRange(Enumerable.Range(0, outputs).Select(c => deadSet.Contains(c) ? 0f : Uniform(-0.5, 0.5)));
        _floats.AddRange(Enumerable.Range(0, outputs * inputs).Select(_ => Uniform(-0.05, 0.05)));
        if (batchNormalize)
        {
            _floats.AddRange(Enumerable.Range(0, outputs).Select(c => deadSet.Contains(c) ? 0f : Uniform(0.5, 1.5)));
            _floats.AddRange(Enumerable.Range(0, outputs).Select(_ => Uniform(-0.2, 0.2)));
            _floats.AddRange(Enumerable.Range(0, outputs).Select(_ => Uniform(0.5, 1.5)));
        }
    }

    /// <summary>Writes the cfg and the weights; <paramref name="overrides"/> replace chosen floats (by position in the file's float list) in this file only.</summary>
    public (string Cfg, string Weights) Write(TempDirectory temp, string name, string cfgText, IReadOnlyDictionary<int, float>? overrides = null)
    {
        var cfg = temp.WriteText(name + ".cfg", cfgText);
        var weights = temp.Combine(name + ".weights");
        var floats = _floats.ToArray();
        foreach (var (index, value) in overrides ?? new Dictionary<int, float>())
        {
            floats[index] = value;
        }

        DarknetFixture.WriteWeights(weights, floats);
        return (cfg, weights);
    }

    private float Uniform(double low, double high) => (float)(low + (_random.NextDouble() * (high - low)));
}
