using NeuralBuild.Engine.Execution;
using NeuralBuild.Engine.Ir;

namespace NeuralBuild.Engine.Ops;

/// <summary>
/// Darknet [local]: a convolution with separate weights at every output location. Inputs: X,
/// W (Hout*Wout, Cout, Cin*k*k), B (Cout*Hout*Wout). Attributes: kernel, stride, pad (0/1 as in
/// darknet: with pad the output is <c>(in-1)/stride+1</c>, without <c>(in-k)/stride+1</c>).
/// MACC = k*k*Cin*Hout*Wout*Cout per image, like a convolution.
/// </summary>
public sealed class LocallyConnected : OpKind<LocallyConnectedAttributes>
{
    public const string OpType = "LocallyConnected";

    public override string Name => OpType;

    internal override Kernel Kernel { get; } = new LocallyConnectedKernel();

    protected override LocallyConnectedAttributes Parse(AttributeReader attributes)
    {
        var (k, s, filters) = (attributes.Int("kernel"), attributes.Int("stride"), attributes.Int("filters"));
        return k > 0 && s > 0 && filters > 0
            ? new LocallyConnectedAttributes(k, s, attributes.Flag("pad"), filters)
            : throw attributes.OutOfRange("size, stride and filters must be positive.");
    }

    protected override Shape[] Infer(OpContext context)
    {
        var x = context.Image(0);
        var (k, s, pad, filters) = AttributesOf(context.Node);

        var outH = ((pad ? x.H - 1 : x.H - k) / s) + 1;
        var outW = ((pad ? x.W - 1 : x.W - k) / s) + 1;
        var output = context.Positive(Shape.Nchw(x.N, filters, outH, outW));
        var locations = Checked.Mul(outH, outW);
        PerChannel.RequireCount(context, 1, "weights", Checked.Mul(locations, filters, x.C, Checked.Mul(k, k)), "weights (locations x filters x channels x size x size)");
        PerChannel.RequireCount(context, 2, "bias", Checked.Mul(locations, filters), "biases (locations x filters)");
        return [output];
    }

    public override OpCost Cost(OpContext context)
    {
        var x = context.Input(0);
        var k = AttributesOf(context.Node).Kernel;
        var outputs = context.Output.ElementCount;
        var macc = Checked.Mul(k * k, x.C, outputs);
        return new OpCost
        {
            Macc = macc,
            MaccOutputs = outputs,
            NaiveInputReads = macc,
            Flops = new FlopTerms(Bias: outputs),
        };
    }
}

/// <summary>Attributes of <see cref="LocallyConnected"/> (darknet [local]): square kernel size, stride, darknet's pad flag (pad = size/2), filters.</summary>
public sealed record LocallyConnectedAttributes(long Kernel, long Stride, bool Pad, long Filters);
