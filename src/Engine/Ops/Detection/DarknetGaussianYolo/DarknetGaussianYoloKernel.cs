using NeuralBuild.Engine.Execution.Primitives;
using NeuralBuild.Engine.Execution;

namespace NeuralBuild.Engine.Ops;

/// <summary>
/// AlexeyAB [Gaussian_yolo] at inference (forward_gaussian_yolo_layer): per anchor map of
/// (classes + 9) channels laid out x, σx, y, σy, w, σw, h, σh, objectness, classes: the logistic of
/// all but w and h, and <c>x*s - (s-1)/2</c> on x and y only.
/// </summary>
internal sealed class DarknetGaussianYoloKernel : Kernel
{
    public override bool SupportsInPlace => true;

    public override void Run(KernelContext context)
    {
        HeadMath.CopyIfNeeded(context);
        var y = context.Output;
        var attributes = context.AttributesAs<DarknetYoloAttributes>();
        var anchors = checked((int)attributes.Anchors);
        var classes = checked((int)attributes.Classes);
        var scaleXY = attributes.ScaleXY;
        var cells = HeadMath.Cells(y.Shape);
        var outputs = checked((int)y.Shape.ElementsPerItem);
        var batch = checked((int)y.Shape[0]);
        for (var b = 0; b < batch; b++)
        {
            for (var n = 0; n < anchors; n++)
            {
                var entry = (b * outputs) + (n * cells * (classes + 9));
                Span<float> Entries(int first, int count) => y.Data.AsSpan(entry + (first * cells), count * cells);
                HeadMath.Logistic(Entries(0, 2));
                HeadMath.ScaleXY(Entries(0, 1), scaleXY);
                HeadMath.Logistic(Entries(2, 2));
                HeadMath.ScaleXY(Entries(2, 1), scaleXY);
                HeadMath.Logistic(Entries(5, 1));
                HeadMath.Logistic(Entries(7, 1));
                HeadMath.Logistic(Entries(8, 1 + classes));
            }
        }
    }
}
