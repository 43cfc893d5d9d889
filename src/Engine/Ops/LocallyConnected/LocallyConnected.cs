using NeuralBuild.Engine.Diagnostics;
using NeuralBuild.Engine.Execution;
using NeuralBuild.Engine.Ir;

namespace NeuralBuild.Engine.Ops;

/// <summary>
/// Darknet [local]: a convolution with separate weights at every output location. Inputs: X,
/// W (Hout*Wout, Cout, Cin*k*k), B (Cout*Hout*Wout). Attributes: kernel, stride, pad (0/1 as in
/// darknet: with pad the output is <c>(in-1)/stride+1</c>, without <c>(in-k)/stride+1</c>).
/// MACC = k*k*Cin*Hout*Wout*Cout per image, like a convolution.
/// </summary>
public sealed class LocallyConnected : OpKind
{
    public override string Name => "LocallyConnected";

    internal override Kernel Kernel { get; } = new LocallyConnectedKernel();

    protected override Shape[] Infer(OpContext context)
    {
        var x = context.Image(0);
        var k = context.Attributes.Int("kernel");
        var s = context.Attributes.Int("stride");
        var pad = context.Attributes.Int("pad", 0) != 0;
        var filters = context.Attributes.Int("filters");
        if (k <= 0 || s <= 0 || filters <= 0)
        {
            throw context.Error(DiagnosticCodes.AttributeOutOfRange, "size, stride and filters must be positive.");
        }

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
        var k = context.Attributes.Int("kernel");
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
