using NeuralBuild.Engine.Execution.Primitives;

namespace NeuralBuild.Engine.Execution.Kernels;

/// <summary>
/// Element-wise activation (<see cref="ActivationFunctions"/>: darknet's formulas; ONNX's for
/// HardSigmoid, HardSwish, Softplus and PRelu, whose slope may be a per-channel input).
/// </summary>
internal sealed class ActivationKernel : Kernel
{
    public override string OpType => "Activation";

    public override bool SupportsInPlace => true;

    public override void Run(KernelContext context)
    {
        var x = context.Input(0).Data;
        var y = context.Output.Data;
        if (context.Attributes.String("function") == "prelu")
        {
            RunPrelu(context, (float)context.Attributes.Float("alpha", 0));
            return;
        }

        var apply = ActivationFunctions.Create(context.Attributes, context.Unsupported);

        ParallelWork.For(context, x.Length, 1 << 16, (start, end) =>
            apply(x.AsSpan((int)start, (int)(end - start)), y.AsSpan((int)start, (int)(end - start))));
    }

    /// <summary>PRelu: one slope per channel from input 1, or the <c>alpha</c> attribute for all.</summary>
    private static void RunPrelu(KernelContext context, float alpha)
    {
        var x = context.Input(0);
        var y = context.Output.Data;
        var slopes = context.OptionalInput(1)?.Data;
        var layout = TensorLayout.Of(x.Shape);
        if (slopes is not null && slopes.Length != 1 && slopes.Length != layout.Channels)
        {
            throw context.Unsupported($"a PRelu slope of {slopes.Length} values for {layout.Channels} channels");
        }

        for (var plane = 0; plane < layout.Planes; plane++)
        {
            var slope = slopes is null ? alpha : slopes[slopes.Length == 1 ? 0 : plane % layout.Channels];
            ActivationFunctions.Leaky(x.Data.AsSpan(plane * layout.Plane, layout.Plane), y.AsSpan(plane * layout.Plane, layout.Plane), slope);
        }
    }
}
