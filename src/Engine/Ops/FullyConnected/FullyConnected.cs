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
public sealed class FullyConnected : OpKind<FullyConnectedAttributes>
{
    public const string OpType = "FullyConnected";

    public override string Name => OpType;

    internal override Kernel Kernel { get; } = new FullyConnectedKernel();

    protected override FullyConnectedAttributes Parse(AttributeReader attributes)
    {
        var outputRank = attributes.Int("output_rank", 4);
        return outputRank is 2 or 4
            ? new FullyConnectedAttributes(attributes.Flag("transpose"), attributes.Float("alpha", 1), attributes.Float("beta", 1), outputRank)
            : throw attributes.OutOfRange($"output_rank={outputRank} must be 2 or 4.");
    }

    protected override Shape[] Infer(OpContext context)
    {
        var x = context.Input(0);
        var w = context.Input(1);
        var attributes = AttributesOf(context.Node);
        var transposed = attributes.Transposed;
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
        return attributes.OutputRank == 2
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

/// <summary>
/// Attributes of <see cref="FullyConnected"/>: whether W is stored (inputs, outputs) rather than
/// (outputs, inputs); ONNX Gemm's <c>alpha</c> (on X·W) and <c>beta</c> (on the bias); and the
/// output's rank (2: (N, J) as Gemm/InnerProduct give it; 4: (N, J, 1, 1) as darknet's [connected]).
/// </summary>
public sealed record FullyConnectedAttributes(bool Transposed, double Alpha, double Beta, long OutputRank);
