using NeuralBuild.Engine.Execution;

namespace NeuralBuild.Engine.Ops;

/// <summary>
/// Caffe Power: <c>y = (shift + scale * x) ^ power</c>. With power 1 no power is taken (Caffe
/// skips it); otherwise the power is evaluated in double and rounded to float.
/// </summary>
internal sealed class PowerKernel : Kernel
{
    public override bool SupportsInPlace => true;

    public override void Run(KernelContext context)
    {
        var attributes = context.AttributesAs<PowerAttributes>();
        var power = attributes.Power;
        var scale = (float)attributes.Scale;
        var shift = (float)attributes.Shift;
        var x = context.Input(0).Data;
        var y = context.Output.Data;
        for (var i = 0; i < x.Length; i++)
        {
            var v = (scale * x[i]) + shift;
            y[i] = power == 1 ? v : (float)Math.Pow(v, power);
        }
    }
}
