using NeuralBuild.Engine.Diagnostics;
using NeuralBuild.Engine.Execution;
using NeuralBuild.Engine.Ir;

namespace NeuralBuild.Engine.Ops;

/// <summary>
/// Binary element-wise arithmetic with numpy (ONNX multidirectional) broadcasting: attribute
/// <c>operation</c> is <c>add</c>, <c>sub</c>, <c>mul</c>, <c>div</c> or <c>max</c> (ONNX Add, Sub,
/// Mul, Div, Max of two inputs). The one canonical element-wise operator: ONNX's arithmetic, Caffe's
/// Eltwise (N bottoms and coefficients as a chain of them), Darknet's [shortcut] of equal shapes, [sam] and [scale_channels] all lower to it.
/// One FLOP per output element, whatever the operation.
/// </summary>
public sealed class Arithmetic : OpKind<ArithmeticAttributes>
{
    public const string OpType = "Arithmetic";

    public override string Name => OpType;

    internal override Kernel Kernel { get; } = new ArithmeticKernel();

    private static readonly (string, ArithmeticOperation)[] s_operations =
    [
        ("add", ArithmeticOperation.Add),
        ("sub", ArithmeticOperation.Sub),
        ("mul", ArithmeticOperation.Mul),
        ("div", ArithmeticOperation.Div),
        ("max", ArithmeticOperation.Max),
    ];

    protected override ArithmeticAttributes Parse(AttributeReader attributes) => new(attributes.Choice("operation", string.Empty, s_operations));

    protected override Shape[] Infer(OpContext context)
    {
        _ = AttributesOf(context.Node);
        return [Broadcast(context, context.Input(0), context.Input(1))];
    }

    public override OpCost Cost(OpContext context) =>
        new() { Flops = new FlopTerms(Elementwise: context.Output.ElementCount) };

    /// <summary>The numpy broadcast of two shapes: axes aligned from the end, a 1 stretches to the other size.</summary>
    public static Shape Broadcast(OpContext context, Shape a, Shape b)
    {
        var rank = Math.Max(a.Rank, b.Rank);
        var dims = new long[rank];
        for (var i = 0; i < rank; i++)
        {
            var ia = i - (rank - a.Rank);
            var ib = i - (rank - b.Rank);
            var da = ia >= 0 ? a[ia] : 1;
            var db = ib >= 0 ? b[ib] : 1;
            dims[i] = da == db || db == 1 ? da
                : da == 1 ? db
                : throw context.Error(DiagnosticCodes.ShapeMismatch, $"cannot broadcast {a} with {b}: axis {i} is {da} and {db}.");
        }

        return new Shape(dims);
    }
}

/// <summary>A binary arithmetic operation, computed as <c>input0 op input1</c>.</summary>
public enum ArithmeticOperation
{
    Add,
    Sub,
    Mul,
    Div,

    /// <summary>The larger of the two; NaN when either is NaN (ONNX Max).</summary>
    Max,
}

/// <summary>Attributes of <see cref="Arithmetic"/>: which operation (ONNX Add, Sub, Mul, Div, Max).</summary>
public sealed record ArithmeticAttributes(ArithmeticOperation Operation);
