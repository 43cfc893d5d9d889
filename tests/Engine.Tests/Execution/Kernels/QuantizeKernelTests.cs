using NeuralBuild.Engine.Diagnostics;
using NeuralBuild.Engine.Tests.Support;
using static NeuralBuild.Engine.Tests.Execution.SingleNode;

namespace NeuralBuild.Engine.Tests.Execution.Kernels;

/// <summary>The Quantize kernel (ONNX QuantizeLinear per tensor); every expected value is worked out beside it.</summary>
[TestClass]
public sealed class QuantizeKernelTests
{
    [TestMethod]
    public void Uint8_rounds_half_to_even_shifts_by_the_zero_point_and_saturates()
    {
        // scale 0.5, zero point 10: x / 0.5 = -12, -1.5, -0.5, 0.5, 1.5, 2.5, 600 -> round half even -12, -2, -0, 0, 2, 2, 600
        // -> + 10 = -2 (-> 0), 8, 10, 10, 12, 12, 610 (-> 255).
        var y = Run("Quantize", T([1, 7], -6f, -0.75f, -0.25f, 0.25f, 0.75f, 1.25f, 300f), a => a.Set("scale", 0.5).Set("zero_point", 10L).Set("qmin", 0L).Set("qmax", 255L));
        AssertValues([0, 8, 10, 10, 12, 12, 255], y);
    }

    [TestMethod]
    public void Int8_saturates_at_minus_128_and_127()
    {
        // scale 1, zero point -3: -200 -> -203 -> -128; 4.5 -> 4 (even) -> 1; 200 -> 197 -> 127.
        var y = Run("Quantize", T([1, 3], -200f, 4.5f, 200f), a => a.Set("scale", 1.0).Set("zero_point", -3L).Set("qmin", -128L).Set("qmax", 127L));
        AssertValues([-128, 1, 127], y);
    }

    [TestMethod]
    public void A_zero_point_outside_the_range_or_a_scale_of_0_is_NM0025()
    {
        DiagnosticAssert.Throws(DiagnosticCodes.AttributeOutOfRange, () => Run("Quantize", T([1, 1], 0f), a => a.Set("scale", 1.0).Set("zero_point", 300L)));
        DiagnosticAssert.Throws(DiagnosticCodes.AttributeOutOfRange, () => Run("Quantize", T([1, 1], 0f), a => a.Set("scale", 0.0)));
    }
}
