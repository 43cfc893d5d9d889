using NeuralBuild.Engine.Execution.Primitives;
using NeuralBuild.Engine.Execution;

namespace NeuralBuild.Engine.Ops;

/// <summary>
/// Element-wise activation (<see cref="ActivationFunctions"/>: darknet's formulas; ONNX's for
/// HardSigmoid, HardSwish, Softplus, Clip and PRelu, whose slope input broadcasts to the input).
/// </summary>
internal sealed class ActivationKernel : Kernel
{
    public override bool SupportsInPlace => true;

    public override void Run(KernelContext context)
    {
        var x = context.Input(0).Data;
        var y = context.Output.Data;
        var attributes = context.AttributesAs<ActivationAttributes>();
        if (attributes.Function == "prelu")
        {
            RunPrelu(context, attributes);
            return;
        }

        var apply = ActivationFunctions.Create(attributes, context.Unsupported);

        ParallelWork.For(context, x.Length, 1 << 16, (start, end) =>
            apply(x.AsSpan((int)start, (int)(end - start)), y.AsSpan((int)start, (int)(end - start))));
    }

    /// <summary>
    /// PRelu: <c>x &gt; 0 ? x : slope * x</c>. Caffe's PReLU (attribute <c>channel_shared</c>) has one
    /// slope per channel or one for all; ONNX's slope input broadcasts to X the numpy way (aligned
    /// from the last axis: a (C, 1, 1) slope is per channel, a (W) slope varies along the last axis);
    /// without a slope input the <c>alpha</c> attribute is the slope.
    /// </summary>
    private static void RunPrelu(KernelContext context, ActivationAttributes attributes)
    {
        var x = context.Input(0);
        var y = context.Output.Data;
        var slope = context.OptionalInput(1);
        if (slope is null || slope.Data.Length == 1)
        {
            ActivationFunctions.Leaky(x.Data, y, slope?.Data[0] ?? (float)attributes.Alpha);
            return;
        }

        if (attributes.PerChannelSlope)
        {
            var layout = TensorLayout.Of(x.Shape);
            if (slope.Data.Length != layout.Channels)
            {
                throw context.Unsupported($"a PRelu slope of {slope.Data.Length} values for {layout.Channels} channels");
            }

            for (var plane = 0; plane < layout.Planes; plane++)
            {
                ActivationFunctions.Leaky(x.Data.AsSpan(plane * layout.Plane, layout.Plane), y.AsSpan(plane * layout.Plane, layout.Plane), slope.Data[plane % layout.Channels]);
            }

            return;
        }

        if (!Broadcasting.Fits(slope.Shape, x.Shape))
        {
            throw context.Unsupported($"a PRelu slope of shape {slope.Shape}, which does not broadcast to {x.Shape}");
        }

        var strides = new[] { Broadcasting.Strides(x.Shape, x.Shape), Broadcasting.Strides(slope.Shape, x.Shape) };
        var inner = x.Shape.Rank == 0 ? 1 : checked((int)x.Shape[-1]);
        var step = x.Shape.Rank == 0 ? 0 : strides[1][^1];
        var src = x.Data;
        var slopes = slope.Data;
        Broadcasting.ForEachRow(x.Shape, strides, (at, offsets) =>
        {
            for (var i = 0; i < inner; i++)
            {
                var v = src[at + i];
                y[at + i] = v > 0 ? v : slopes[offsets[1] + (i * step)] * v;
            }
        });
    }
}
