using NeuralBuild.Engine.Execution;

namespace NeuralBuild.Engine.Ops;

/// <summary>
/// <see cref="Quantize"/>: x / scale in float32 (the operator's own precision), rounded half to even,
/// shifted by the zero point and saturated to [qmin, qmax].
/// </summary>
internal sealed class QuantizeKernel : Kernel
{
    public override bool SupportsInPlace => true;

    public override void Run(KernelContext context)
    {
        var (scale, zeroPoint, qmin, qmax) = context.AttributesAs<QuantizeAttributes>();
        var x = context.Input(0).Data;
        var y = context.Output.Data;
        var divisor = (float)scale;
        for (var i = 0; i < x.Length; i++)
        {
            y[i] = (float)Math.Clamp(Math.Round(x[i] / divisor, MidpointRounding.ToEven) + zeroPoint, qmin, qmax);
        }
    }
}
