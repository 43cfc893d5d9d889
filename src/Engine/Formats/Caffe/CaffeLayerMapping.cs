using NeuralBuild.Engine.Diagnostics;
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

    /// <summary>
    /// Eltwise as Caffe computes it, in canonical <c>Arithmetic</c> nodes: SUM is
    /// <c>y = c0*x0; y += c1*x1; …</c> (a Mul by the coefficient only where it is not 1, then an Add
    /// chain in bottom order, so each sum rounds as Caffe's does), PROD and MAX a Mul or Max chain.
    /// Two unweighted bottoms make one node; the chain's later links work in place on the running result.
    /// </summary>
    public static void EltwiseLayer(CaffeLayerContext layer)
    {
        var p = layer.P;
        var e = p.EltwiseParam ?? new EltwiseParameter();
        var inputs = layer.Bottoms(2, int.MaxValue);
        if (e.Coeff.Count > 0 && (e.Operation != EltwiseParameter.Types.EltwiseOp.Sum || e.Coeff.Count != inputs.Count))
        {
            throw layer.Invalid(e, "coeff", $"{e.Coeff.Count} coefficient(s) for {inputs.Count} bottoms: coeff applies to SUM only, one per bottom.");
        }

        var first = layer.ShapeOf(inputs[0]);
        for (var i = 1; i < inputs.Count; i++)
        {
            if (!layer.ShapeOf(inputs[i]).Equals(first))
            {
                throw DiagnosticCodes.ShapeMismatch.Exception(layer.Map.Of(layer.Layer.Source, "bottom", i),
                    $"layer '{p.Name}' [Eltwise]: bottom {i} is {layer.ShapeOf(inputs[i])} but bottom 0 is {first}; element-wise inputs need the same shape.");
            }
        }

        var operation = e.Operation switch
        {
            EltwiseParameter.Types.EltwiseOp.Prod => "mul",
            EltwiseParameter.Types.EltwiseOp.Max => "max",
            _ => "add",
        };
        string Term(int i) => e.Coeff.Count > 0 && e.Coeff[i] != 1
            ? layer.EmitInner($"scaled{i}", "Arithmetic", [inputs[i], layer.Constant($"coeff{i}", e.Coeff[i])], a => a.Set("operation", "mul"), inPlace: false)
            : inputs[i];

        var running = Term(0);
        var inner = running != inputs[0];
        for (var i = 1; i < inputs.Count; i++)
        {
            var term = Term(i);
            if (i == inputs.Count - 1)
            {
                layer.Emit("Arithmetic", [running, term], 1, configure: a => a.Set("operation", operation), forceInPlace: inner);
                return;
            }

            running = layer.EmitInner($"partial{i}", "Arithmetic", [running, term], a => a.Set("operation", operation), inPlace: inner);
            inner = true;
        }
    }

    public static void SoftmaxLayer(CaffeLayerContext layer)
    {
        var softmax = layer.P.SoftmaxParam ?? new SoftmaxParameter();
        var inputs = layer.Bottoms(1, 1);
        layer.Axis(softmax, "axis", softmax.Axis, layer.ShapeOf(inputs[0]));
        layer.Emit("Softmax", inputs, 1, configure: a => a.Set("axis", (long)softmax.Axis));
    }
}
