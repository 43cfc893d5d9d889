using NeuralBuild.Engine.Diagnostics;
using NeuralBuild.Engine.Execution.Primitives;
using NeuralBuild.Engine.Execution;

namespace NeuralBuild.Engine.Ops;

/// <summary>
/// Darknet [softmax] (forward_softmax_layer): each batch item is cut into <c>groups</c>
/// consecutive slices of inputs/groups values and each slice gets its own softmax at
/// <c>temperature</c>; with <c>group_sizes</c> (darknet's class tree) the slices are consecutive
/// groups of those sizes instead (softmax_tree). A node with an <c>axis</c> attribute (Caffe Softmax) is a softmax along that
/// axis at every position of the others (<see cref="AxisSoftmax"/>). With <c>coerce_2d</c> (ONNX
/// Softmax before opset 13) the input is seen as a matrix of the axes before <c>axis</c> by the
/// axes from it on, and each row, all of those trailing axes together, gets one softmax.
/// </summary>
internal sealed class SoftmaxKernel : Kernel
{
    public override bool SupportsInPlace => true;

    public override void Run(KernelContext context)
    {
        var x = context.Input(0);
        var y = context.Output;
        var attributes = context.AttributesAs<SoftmaxAttributes>();
        if (attributes.Axis is { } axisAttribute)
        {
            var axis = checked((int)(axisAttribute < 0 ? axisAttribute + x.Shape.Rank : axisAttribute));
            if (attributes.Coerce2D)
            {
                var rows = Ir.Checked.Product(x.Shape.Dims.Take(axis).ToArray());
                AxisSoftmax.Apply(x.Data, y.Data, new Ir.Shape(rows, x.Shape.ElementCount / rows), 1);
                return;
            }

            AxisSoftmax.Apply(x.Data, y.Data, x.Shape, axis);
            return;
        }

        var temperature = (float)attributes.Temperature;
        var batch = ConvGeometry.Dim(x.Shape, 0);
        var inputs = checked((int)x.Shape.ElementsPerItem);
        if (attributes.Hierarchical)
        {
            if (attributes.MissingClassTree is { } missing)
            {
                throw DiagnosticCodes.ReferencedFileMissing.Exception(context.Node.Origin.Location, missing);
            }

            for (var b = 0; b < batch; b++)
            {
                DarknetSoftmax.ApplyGroups(x.Data, b * inputs, attributes.GroupSizes, 1, temperature, y.Data);
            }

            return;
        }

        var groups = checked((int)attributes.Groups);
        var n = inputs / groups;
        for (var b = 0; b < batch; b++)
        {
            for (var g = 0; g < groups; g++)
            {
                DarknetSoftmax.Apply(x.Data, (b * inputs) + (g * n), n, 1, temperature, y.Data);
            }
        }
    }
}
