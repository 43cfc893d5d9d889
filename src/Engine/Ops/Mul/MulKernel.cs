using NeuralBuild.Engine.Execution;

namespace NeuralBuild.Engine.Ops;

/// <summary>
/// Element-wise product with numpy broadcasting. Darknet [sam] multiplies equal shapes;
/// [scale_channels] multiplies a feature map by a (N, C, 1, 1) scale (or (N, 1, H, W) with
/// scale_wh), which is the same product broadcast over the missing axes: ONNX Mul's arithmetic.
/// </summary>
internal sealed class MulKernel : Kernel
{
    public override bool SupportsInPlace => true;

    public override void Run(KernelContext context) => ArithmeticKernel.Compute(context, ArithmeticOperation.Mul);
}
