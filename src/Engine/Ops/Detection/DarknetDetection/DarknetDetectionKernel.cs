using NeuralBuild.Engine.Execution;
using NeuralBuild.Engine.Execution.Primitives;

namespace NeuralBuild.Engine.Ops;

/// <summary>
/// Darknet [detection] (YOLOv1) at inference (forward_detection_layer): the input unchanged,
/// except that with softmax=1 the class probabilities of each of the side² cells (the first
/// side²*classes values, classes consecutive per cell) get a softmax.
/// </summary>
internal sealed class DarknetDetectionKernel : Kernel
{
    public override bool SupportsInPlace => true;

    public override void Run(KernelContext context)
    {
        HeadMath.CopyIfNeeded(context);
        var attributes = context.AttributesAs<DarknetDetectionAttributes>();
        if (!attributes.Softmax)
        {
            return;
        }

        var y = context.Output;
        var side = checked((int)attributes.Side);
        var classes = checked((int)attributes.Classes);
        var inputs = checked((int)y.Shape.ElementsPerItem);
        var batch = checked((int)y.Shape[0]);
        for (var b = 0; b < batch; b++)
        {
            for (var cell = 0; cell < side * side; cell++)
            {
                DarknetSoftmax.Apply(y.Data, (b * inputs) + (cell * classes), classes, 1, 1f, y.Data);
            }
        }
    }
}
