using NeuralBuild.Engine.Execution.Primitives;
using NeuralBuild.Engine.Execution;

namespace NeuralBuild.Engine.Ops;

/// <summary>
/// Darknet [yolo] at inference (forward_yolo_layer, CPU path): per anchor map of (classes + 5)
/// channels, the logistic of x, y, objectness and the classes (w, h stay raw), then AlexeyAB's
/// <c>x*s - (s-1)/2</c> on x and y (an identity at scale_x_y = 1, which is all pjreddie has). With
/// new_coords=1 nothing is activated; the scale still applies.
/// </summary>
internal sealed class DarknetYoloKernel : Kernel
{
    public override bool SupportsInPlace => true;

    public override void Run(KernelContext context)
    {
        HeadMath.CopyIfNeeded(context);
        var y = context.Output;
        var attributes = context.AttributesAs<DarknetYoloAttributes>();
        var anchors = checked((int)attributes.Anchors);
        var classes = checked((int)attributes.Classes);
        var newCoords = attributes.NewCoords;
        var scaleXY = attributes.ScaleXY;
        var cells = HeadMath.Cells(y.Shape);
        var outputs = checked((int)y.Shape.ElementsPerItem);
        var batch = checked((int)y.Shape[0]);
        for (var b = 0; b < batch; b++)
        {
            for (var n = 0; n < anchors; n++)
            {
                var box = (b * outputs) + (n * cells * (classes + 5));
                if (!newCoords)
                {
                    HeadMath.Logistic(y.Data.AsSpan(box, 2 * cells));
                    HeadMath.Logistic(y.Data.AsSpan(box + (4 * cells), (1 + classes) * cells));
                }

                HeadMath.ScaleXY(y.Data.AsSpan(box, 2 * cells), scaleXY);
            }
        }
    }
}
