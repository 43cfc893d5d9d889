using NeuralBuild.Engine.Formats.Caffe.Proto;
using NeuralBuild.Engine.Ir;

namespace NeuralBuild.Engine.Formats.Caffe;

/// <summary>
/// PReLU, Eltwise and Softmax; the one-line activations (ReLU, Sigmoid …) are written in <see cref="CaffeLayerMap"/>.
/// </summary>
internal static class CaffeLayerMapping
{
    public static void PRelu(CaffeLayerContext layer)
    {
        var input = layer.Bottoms(1, 1)[0];
        var x = layer.ShapeOf(input);
        var shared = layer.P.PreluParam?.ChannelShared ?? false;
        var slope = layer.Param(0, "slope", new Shape(shared ? 1 : (x.Rank > 1 ? x[1] : 1)));
        layer.Emit("Activation", [input, slope], 1, configure: a => a.Set("function", "prelu").Set("channel_shared", shared ? 1L : 0L));
    }

    public static void EltwiseLayer(CaffeLayerContext layer)
    {
        var p = layer.P;
        var e = p.EltwiseParam ?? new EltwiseParameter();
        var inputs = layer.Bottoms(2, int.MaxValue);
        if (e.Coeff.Count > 0 && (e.Operation != EltwiseParameter.Types.EltwiseOp.Sum || e.Coeff.Count != inputs.Count))
        {
            throw layer.Invalid(e, "coeff", $"{e.Coeff.Count} coefficient(s) for {inputs.Count} bottoms: coeff applies to SUM only, one per bottom.");
        }

        var (operation, arithmetic) = e.Operation switch
        {
            EltwiseParameter.Types.EltwiseOp.Prod => ("prod", "mul"),
            EltwiseParameter.Types.EltwiseOp.Max => ("max", "max"),
            _ => ("sum", "add"),
        };
        if (inputs.Count == 2 && e.Coeff.All(c => c == 1) && layer.ShapeOf(inputs[0]).Equals(layer.ShapeOf(inputs[1])))
        {
            // Two blobs of one shape, unweighted (ResNet's residual sums): the canonical element-wise op.
            layer.Emit("Arithmetic", inputs, 1, configure: a => a.Set("operation", arithmetic));
            return;
        }

        layer.Emit("Eltwise", inputs, 1, configure: a =>
        {
            a.Set("operation", operation);
            if (e.Coeff.Count > 0)
            {
                a.Set("coeffs", e.Coeff.Select(c => (double)c).ToArray());
            }
        });
    }

    public static void SoftmaxLayer(CaffeLayerContext layer)
    {
        var softmax = layer.P.SoftmaxParam ?? new SoftmaxParameter();
        var inputs = layer.Bottoms(1, 1);
        layer.Axis(softmax, "axis", softmax.Axis, layer.ShapeOf(inputs[0]));
        layer.Emit("Softmax", inputs, 1, configure: a => a.Set("axis", (long)softmax.Axis));
    }
}
