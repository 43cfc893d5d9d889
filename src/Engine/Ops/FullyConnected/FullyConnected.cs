using NeuralBuild.Engine.Diagnostics;
using NeuralBuild.Engine.Execution;
using NeuralBuild.Engine.Ir;

namespace NeuralBuild.Engine.Ops;

/// <summary>
/// Fully connected layer (Darknet [connected], Caffe InnerProduct). Inputs: X (N, …) flattened to I
/// per item, W (J, I), optional B (J). Output (N, J, 1, 1). MACC = I*J per image.
/// Attributes (Caffe): <c>transpose</c> = 1 when W is stored (I, J); <c>output_rank</c> = 2 for an
/// (N, J) output as Caffe's InnerProduct produces (default 4).
/// </summary>
public sealed class FullyConnected : OpKind
{
    public override string Name => "FullyConnected";

    internal override Kernel Kernel { get; } = new FullyConnectedKernel();

    protected override Shape[] Infer(OpContext context)
    {
        var x = context.Input(0);
        var w = context.Input(1);
        var transposed = context.Attributes.Int("transpose", 0) != 0;
        if (x.Rank == 0)
        {
            throw context.Error(DiagnosticCodes.ShapeMismatch, "a fully connected layer needs an input with a batch axis, not a scalar.");
        }

        if (w.Rank != 2 || w[transposed ? 0 : 1] != x.ElementsPerItem)
        {
            throw context.Error(DiagnosticCodes.ShapeMismatch, $"weights {w} do not fit {x.ElementsPerItem} inputs.");
        }

        var outputs = w[transposed ? 1 : 0];
        PerChannel.RequireBroadcast(context, 2, "bias", new Shape(x[0], outputs));
        return context.Attributes.Int("output_rank", 4) == 2
            ? [context.Positive(new Shape(x[0], outputs))]
            : [context.Positive(Shape.Nchw(x[0], outputs, 1, 1))];
    }

    public override OpCost Cost(OpContext context)
    {
        var x = context.Input(0);
        var w = context.Input(1);
        var outputs = context.Output.ElementCount;
        var macc = Checked.Mul(x[0], w[0], w[1]);
        return new OpCost
        {
            Macc = macc,
            MaccOutputs = outputs,
            NaiveInputReads = macc,
            Flops = new FlopTerms(Bias: context.HasInput(2) ? outputs : 0),
        };
    }
}
