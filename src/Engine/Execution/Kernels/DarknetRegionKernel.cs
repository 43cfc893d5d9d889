using NeuralBuild.Engine.Execution.Primitives;

namespace NeuralBuild.Engine.Execution.Kernels;

/// <summary>
/// Darknet [region] at inference (forward_region_layer, CPU path): per anchor map of
/// (coords + classes + 1) channels, the logistic of x, y and the objectness (entry coords); the
/// classes get a softmax across the class channels of each cell when softmax=1 (computed from the
/// raw input), a logistic otherwise.
/// </summary>
internal sealed class DarknetRegionKernel : Kernel
{
    public override string OpType => "DarknetRegion";

    public override bool SupportsInPlace => true;

    public override void Run(KernelContext context)
    {
        HeadMath.CopyIfNeeded(context);
        var y = context.Output;
        var anchors = checked((int)context.Attributes.Int("num"));
        var classes = checked((int)context.Attributes.Int("classes"));
        var coords = checked((int)context.Attributes.Int("coords"));
        var softmax = context.Attributes.Int("softmax", 0) != 0;
        var cells = HeadMath.Cells(y.Shape);
        var outputs = checked((int)y.Shape.ElementsPerItem);
        var batch = checked((int)y.Shape[0]);
        var perAnchor = cells * (coords + classes + 1);
        for (var b = 0; b < batch; b++)
        {
            for (var n = 0; n < anchors; n++)
            {
                var entry = (b * outputs) + (n * perAnchor);
                HeadMath.Logistic(y.Data.AsSpan(entry, 2 * cells));
                HeadMath.Logistic(y.Data.AsSpan(entry + (coords * cells), cells));
                var classStart = entry + ((coords + 1) * cells);
                if (!softmax)
                {
                    HeadMath.Logistic(y.Data.AsSpan(classStart, classes * cells));
                    continue;
                }

                // The class entries are still the raw input here (nothing above touched them), so
                // the in-place softmax reads what darknet's softmax_cpu(net.input, ...) reads.
                for (var cell = 0; cell < cells; cell++)
                {
                    DarknetSoftmax.Apply(y.Data, classStart + cell, classes, cells, 1f, y.Data);
                }
            }
        }
    }
}
