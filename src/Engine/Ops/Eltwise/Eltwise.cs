using NeuralBuild.Engine.Diagnostics;
using NeuralBuild.Engine.Execution;
using NeuralBuild.Engine.Ir;

namespace NeuralBuild.Engine.Ops;

/// <summary>
/// Element-wise combination of inputs of identical shape (Caffe Eltwise). Attribute
/// <c>operation</c>: <c>sum</c> (optionally weighted by <c>coeffs</c>, one per input), <c>prod</c> or
/// <c>max</c>. Cost: one add / multiply / compare per output element and extra input, plus one
/// multiply per element and input whose coefficient is not 1.
/// </summary>
public sealed class Eltwise : OpKind
{
    public override string Name => "Eltwise";

    internal override Kernel Kernel { get; } = new EltwiseKernel();

    protected override Shape[] Infer(OpContext context)
    {
        var operation = context.Attributes.String("operation", "sum");
        if (operation is not ("sum" or "prod" or "max"))
        {
            throw context.Error(DiagnosticCodes.AttributeOutOfRange, $"operation '{operation}' is not one of sum, prod, max.");
        }

        var first = context.Input(0);
        for (var i = 1; i < context.InputCount; i++)
        {
            if (!context.Input(i).Equals(first))
            {
                throw context.Error(DiagnosticCodes.ShapeMismatch, $"input {i} is {context.Input(i)} but input 0 is {first}; element-wise inputs need the same shape.");
            }
        }

        var coeffs = context.Attributes.Has("coeffs") ? context.Attributes.Floats("coeffs") : [];
        if (coeffs.Length > 0 && (operation != "sum" || coeffs.Length != context.InputCount))
        {
            throw context.Error(DiagnosticCodes.AttributeOutOfRange, $"{coeffs.Length} coefficient(s) for {context.InputCount} inputs; coefficients apply to sum only, one per input.");
        }

        return [first];
    }

    public override OpCost Cost(OpContext context)
    {
        var elements = context.Output.ElementCount;
        var coeffs = context.Attributes.Has("coeffs") ? context.Attributes.Floats("coeffs") : [];
        var weighted = coeffs.Count(c => c != 1.0);
        var operations = Checked.Add(context.InputCount - 1, weighted);
        return new OpCost { Flops = new FlopTerms(Elementwise: Checked.Mul(operations, elements)) };
    }
}
