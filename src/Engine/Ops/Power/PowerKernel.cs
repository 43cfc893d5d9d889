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
        var power = context.Attributes.Float("power", 1);
        var scale = (float)context.Attributes.Float("scale", 1);
        var shift = (float)context.Attributes.Float("shift", 0);
        var x = context.Input(0).Data;
        var y = context.Output.Data;
        for (var i = 0; i < x.Length; i++)
        {
            var v = (scale * x[i]) + shift;
            y[i] = power == 1 ? v : (float)Math.Pow(v, power);
        }
    }
}
