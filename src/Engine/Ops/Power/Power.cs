using NeuralBuild.Engine.Execution;
using NeuralBuild.Engine.Ir;

namespace NeuralBuild.Engine.Ops;

/// <summary>
/// <c>y = (shift + scale * x) ^ power</c> per element (Caffe Power). Cost: one FLOP per element for
/// each term that does something (scale != 1, shift != 0, power != 1).
/// </summary>
public sealed class Power : OpKind
{
    public override string Name => "Power";

    internal override Kernel Kernel { get; } = new PowerKernel();

    protected override Shape[] Infer(OpContext context) => [context.Input(0)];

    public override OpCost Cost(OpContext context)
    {
        var a = context.Attributes;
        var terms = (a.Float("scale", 1) != 1 ? 1 : 0) + (a.Float("shift", 0) != 0 ? 1 : 0) + (a.Float("power", 1) != 1 ? 1 : 0);
        return new OpCost { Flops = new FlopTerms(Elementwise: Checked.Mul(terms, context.Output.ElementCount)) };
    }
}
