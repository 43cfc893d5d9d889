using NeuralBuild.Engine.Ir;

namespace NeuralBuild.Engine.Tests.Ir;

[TestClass]
public sealed class BlockScaledDataTests
{
    [TestMethod]
    public void Vectorised_scaling_rounds_exactly_like_double_multiply_then_float_cast()
    {
        // Long blocks (vector path) with awkward values: every element must equal (float)(scale * (double)w).
        var random = new NeuralBuild.Engine.Numerics.SplitMix64(42);
        var values = Enumerable.Range(0, 3 * 1001).Select(_ => (float)(random.Normal() * 1e3)).ToArray();
        double[] scales = [1.0 / 3.0, Math.PI * 1e-7, -7.000000123456789];

        var scaled = new BlockScaledData(new ArrayData(values), 1001, b => scales[b]).ToArray();

        for (var i = 0; i < values.Length; i++)
        {
            Assert.AreEqual((float)(scales[i / 1001] * values[i]), scaled[i], $"element {i}");
        }
    }
}
