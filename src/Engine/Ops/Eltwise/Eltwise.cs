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
public sealed class Eltwise : OpKind<EltwiseAttributes>
{
    public override string Name => "Eltwise";

    internal override Kernel Kernel { get; } = new EltwiseKernel();

    private static readonly Dictionary<string, EltwiseOperation> s_operations = new(StringComparer.Ordinal)
    {
        ["sum"] = EltwiseOperation.Sum,
        ["prod"] = EltwiseOperation.Prod,
        ["max"] = EltwiseOperation.Max,
    };

    protected override EltwiseAttributes Parse(AttributeReader attributes) =>
        new(attributes.Choice("operation", "sum", s_operations), attributes.Floats("coeffs", []));

    protected override Shape[] Infer(OpContext context)
    {
        var (operation, coeffs) = AttributesOf(context.Node);

        var first = context.Input(0);
        for (var i = 1; i < context.InputCount; i++)
        {
            if (!context.Input(i).Equals(first))
            {
                throw context.Error(DiagnosticCodes.ShapeMismatch, $"input {i} is {context.Input(i)} but input 0 is {first}; element-wise inputs need the same shape.");
            }
        }

        if (coeffs.Length > 0 && (operation != EltwiseOperation.Sum || coeffs.Length != context.InputCount))
        {
            throw context.Error(DiagnosticCodes.AttributeOutOfRange, $"{coeffs.Length} coefficient(s) for {context.InputCount} inputs; coefficients apply to sum only, one per input.");
        }

        return [first];
    }

    public override OpCost Cost(OpContext context)
    {
        var elements = context.Output.ElementCount;
        var coeffs = AttributesOf(context.Node).Coefficients;
        var weighted = coeffs.Count(c => c != 1.0);
        var operations = Checked.Add(context.InputCount - 1, weighted);
        return new OpCost { Flops = new FlopTerms(Elementwise: Checked.Mul(operations, elements)) };
    }
}

/// <summary>Caffe's EltwiseOp.</summary>
public enum EltwiseOperation
{
    Sum,
    Prod,
    Max,
}

/// <summary>Attributes of <see cref="Eltwise"/>: the operation and, for a sum, one coefficient per input (none: all 1).</summary>
public sealed record EltwiseAttributes(EltwiseOperation Operation, double[] Coefficients);
