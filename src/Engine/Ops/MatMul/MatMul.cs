using NeuralBuild.Engine.Diagnostics;
using NeuralBuild.Engine.Execution;
using NeuralBuild.Engine.Ir;

namespace NeuralBuild.Engine.Ops;

/// <summary>
/// Matrix product with numpy semantics (ONNX MatMul): (…, M, K) x (…, K, N) → (…, M, N), leading
/// axes broadcast; a rank-1 operand is a row (left) or column (right) vector whose axis is dropped.
/// MACC = M*K*N per broadcast matrix pair (docs/metrics.md).
/// </summary>
public sealed class MatMul : OpKind
{
    public const string OpType = "MatMul";

    public override string Name => OpType;

    internal override Kernel Kernel { get; } = new MatMulKernel();

    protected override Shape[] Infer(OpContext context)
    {
        var (a, b) = Operands(context);
        if (a[^1] != b[^2])
        {
            throw context.Error(DiagnosticCodes.ShapeMismatch, $"cannot multiply {context.Input(0)} by {context.Input(1)}: inner sizes {a[^1]} and {b[^2]} differ.");
        }

        var batch = Arithmetic.Broadcast(context, new Shape(a[..^2]), new Shape(b[..^2])).Dims.ToList();
        if (context.Input(0).Rank > 1)
        {
            batch.Add(a[^2]);
        }

        if (context.Input(1).Rank > 1)
        {
            batch.Add(b[^1]);
        }

        return [context.Positive(new Shape([.. batch]))];
    }

    public override OpCost Cost(OpContext context)
    {
        var (a, _) = Operands(context);
        var k = a[^1];
        var outputs = context.Output.ElementCount;
        var macc = Checked.Mul(outputs, k);
        return new OpCost { Macc = macc, MaccOutputs = outputs, NaiveInputReads = Checked.Mul(2, macc) };
    }

    private static (long[] A, long[] B) Operands(OpContext context)
    {
        var a = context.Input(0).Dims.ToArray();
        var b = context.Input(1).Dims.ToArray();
        if (a.Length == 0 || b.Length == 0)
        {
            throw context.Error(DiagnosticCodes.ShapeMismatch, "MatMul operands must have at least one axis.");
        }

        return (a.Length == 1 ? [1, a[0]] : a, b.Length == 1 ? [b[0], 1] : b);
    }
}
