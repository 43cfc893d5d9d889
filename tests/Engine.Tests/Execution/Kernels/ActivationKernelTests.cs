using static NeuralBuild.Engine.Tests.Execution.SingleNode;

namespace NeuralBuild.Engine.Tests.Execution.Kernels;

[TestClass]
public sealed class ActivationKernelTests
{
    private static readonly double Ln2 = Math.Log(2);
    private static readonly double Ln3 = Math.Log(3);

    /// <summary>Expected values worked out by hand from darknet's activations.h formulas.</summary>
    [TestMethod]
    [DataRow("linear", -3.0, -3.0)]
    [DataRow("relu", -3.0, 0.0)]
    [DataRow("relu", 2.5, 2.5)]
    [DataRow("leaky", -2.0, -0.2)]
    [DataRow("leaky", 2.0, 2.0)]
    [DataRow("relu6", 7.0, 6.0)]
    [DataRow("relu6", -1.0, 0.0)]
    [DataRow("ramp", 2.0, 2.2)] // x + 0.1x
    [DataRow("ramp", -1.0, -0.1)] // 0 + 0.1x
    [DataRow("relie", -1.0, -0.01)]
    [DataRow("stair", 2.5, 1.0)] // floor 2 is even: floor(2.5/2)
    [DataRow("stair", 3.5, 1.5)] // floor 3 is odd: (3.5 - 3) + floor(1.75)
    [DataRow("hardtan", -4.0, -1.0)]
    [DataRow("lhtan", 2.0, 1.001)] // 0.001*(2-1) + 1
    [DataRow("lhtan", -1.0, -0.001)]
    [DataRow("plse", 5.0, 1.01)] // 0.01*(5-4) + 1
    [DataRow("plse", -5.0, -0.01)]
    [DataRow("plse", 2.0, 0.75)] // 0.125*2 + 0.5
    [DataRow("logistic", 0.0, 0.5)]
    [DataRow("hard_mish", -1.0, -0.5)] // x²/2 + x
    [DataRow("hard_mish", -3.0, 0.0)]
    [DataRow("hard_mish", 2.0, 2.0)]
    [DataRow("hardswish", 3.0, 3.0)]
    [DataRow("hardswish", -3.0, 0.0)]
    [DataRow("hardsigmoid", 1.0, 0.7)] // 0.2x + 0.5
    [DataRow("loggy", 0.0, 0.0)]
    [DataRow("mish", 0.0, 0.0)]
    [DataRow("mish", 25.0, 25.0)] // softplus is x above the threshold 20, tanh(25) rounds to 1
    public void Computes_the_darknet_formula(string function, double x, double expected)
    {
        var y = Run("Activation", T([1, 1, 1, 1], (float)x), a =>
        {
            a.Set("function", function);
            if (function == "leaky")
            {
                a.Set("alpha", 0.1);
            }
        });
        Assert.AreEqual(expected, y.Data[0], 1e-6);
    }

    [TestMethod]
    public void Transcendental_activations_at_points_with_closed_forms()
    {
        // logistic(ln 3) = 1/(1 + 1/3) = 3/4; tanh(ln 2) = (4-1)/(4+1); elu(-ln 2) = 1/2 - 1;
        // swish(ln 3) = ln3 * 3/4; mish(ln 3) = ln3 * tanh(ln 4) = ln3 * 15/17; softplus(0) = ln 2;
        // selu(-ln 2) = 1.0507 * 1.6732 * (1/2 - 1).
        (string Function, double X, double Expected)[] cases =
        [
            ("logistic", Ln3, 0.75),
            ("tanh", Ln2, 0.6),
            ("elu", -Ln2, -0.5),
            ("swish", Ln3, Ln3 * 0.75),
            ("mish", Ln3, Ln3 * 15 / 17),
            ("softplus", 0, Ln2),
            ("selu", -Ln2, 1.0507 * 1.6732 * -0.5),
            ("loggy", Ln3, (2 * 0.75) - 1),
            ("gelu", 1, 0.5 * (1 + Math.Tanh(0.797885 + 0.035677))),
        ];
        foreach (var (function, x, expected) in cases)
        {
            var y = Run("Activation", T([1, 1, 1, 1], (float)x), a => a.Set("function", function).Set("alpha", 0.0));
            Assert.AreEqual(expected, y.Data[0], 1e-6, function);
        }
    }

    [TestMethod]
    public void Leaky_is_vectorised_without_changing_any_element()
    {
        // Long enough for the vector loop and a scalar tail.
        var x = Iota(1, 1, 1, 37);
        for (var i = 0; i < x.Data.Length; i++)
        {
            x.Data[i] = i - 18;
        }

        var y = Run("Activation", x, a => a.Set("function", "leaky").Set("alpha", 0.1));
        for (var i = 0; i < x.Data.Length; i++)
        {
            Assert.AreEqual(i - 18 > 0 ? i - 18 : 0.1f * (i - 18), y.Data[i], 1e-6f);
        }
    }
}
