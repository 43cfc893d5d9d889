using NeuralBuild.Engine.Diagnostics;
using NeuralBuild.Engine.Execution.Primitives;
using NeuralBuild.Engine.Execution;

namespace NeuralBuild.Engine.Ops;

/// <summary>
/// Darknet [region] at inference (forward_region_layer, CPU path), in the fork's output layout
/// (attribute <c>layout</c>):
/// <list type="bullet">
/// <item>"planes" (pjreddie): per anchor map of (coords + classes + 1) channel planes, the logistic
/// of x, y and the objectness (entry coords); the classes get a softmax across the class planes of
/// each cell when softmax=1 (computed from the raw input), a logistic otherwise.</item>
/// <item>"boxes" (AlexeyAB): the map is first flattened to one record per cell and anchor
/// (darknet's flatten: value c of cell i moves to i*C + c), then the logistic of record entry 4
/// and, with softmax=1, a softmax over entries 5 … 5+classes. x and y stay raw (its box decoder
/// applies their logistic).</item>
/// </list>
/// With a class tree (<c>class_groups</c>, YOLO9000) the classes of each box get one softmax per group
/// of siblings at temperature 1, in place of the logistic or plain softmax. In the planes layout this
/// is darknet's GPU path (forward_region_layer_gpu: softmax_tree along the class planes of each cell),
/// the one YOLO9000 was trained and is run with: pjreddie's CPU path takes the groups at flat offsets
/// that do not follow its own planes layout, so on CPU libdarknet's class scores are no softmax of a
/// cell's groups (OnnxLibDarknetTests proves it every run; docs/onnx-export.md).
/// AlexeyAB's CPU path (boxes layout) takes the groups along each box's record, as here.
/// </summary>
internal sealed class DarknetRegionKernel : Kernel
{
    public override bool SupportsInPlace => true;

    public override void Run(KernelContext context)
    {
        var attributes = context.AttributesAs<DarknetRegionAttributes>();
        if (attributes.MissingClassTree is { } missing)
        {
            throw DiagnosticCodes.ReferencedFileMissing.Exception(context.Node.Origin.Location, missing);
        }

        if (attributes.BoxesLayout)
        {
            Boxes(context, attributes);
        }
        else
        {
            Planes(context, attributes);
        }
    }

    private static void Planes(KernelContext context, DarknetRegionAttributes attributes)
    {
        HeadMath.CopyIfNeeded(context);
        var y = context.Output;
        var anchors = checked((int)attributes.Num);
        var classes = checked((int)attributes.Classes);
        var coords = checked((int)attributes.Coords);
        var softmax = attributes.Softmax;
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
                if (attributes.Hierarchical)
                {
                    for (var cell = 0; cell < cells; cell++)
                    {
                        DarknetSoftmax.ApplyGroups(y.Data, classStart + cell, attributes.ClassGroups, cells, 1f, y.Data);
                    }

                    continue;
                }

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

    private static void Boxes(KernelContext context, DarknetRegionAttributes attributes)
    {
        var x = context.Input(0);
        var y = context.Output;
        var anchors = checked((int)attributes.Num);
        var classes = checked((int)attributes.Classes);
        var coords = checked((int)attributes.Coords);
        var softmax = attributes.Softmax;
        var cells = HeadMath.Cells(y.Shape);
        var outputs = checked((int)y.Shape.ElementsPerItem);
        var batch = checked((int)y.Shape[0]);
        var size = coords + classes + 1;
        var channels = size * anchors;

        // The transposition cannot run in place: read from a copy when the buffers are shared.
        var source = context.InPlace ? (float[])x.Data.Clone() : x.Data;
        for (var b = 0; b < batch; b++)
        {
            var item = b * outputs;
            for (var c = 0; c < channels; c++)
            {
                for (var i = 0; i < cells; i++)
                {
                    y.Data[item + (i * channels) + c] = source[item + (c * cells) + i];
                }
            }

            for (var i = 0; i < cells * anchors; i++)
            {
                var box = item + (size * i);
                HeadMath.Logistic(y.Data.AsSpan(box + 4, 1));
                if (attributes.Hierarchical)
                {
                    DarknetSoftmax.ApplyGroups(y.Data, box + 5, attributes.ClassGroups, 1, 1f, y.Data);
                }
                else if (softmax)
                {
                    DarknetSoftmax.Apply(y.Data, box + 5, classes, 1, 1f, y.Data);
                }
            }
        }
    }
}
