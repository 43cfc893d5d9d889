using NeuralBuild.Engine.Diagnostics;
using NeuralBuild.Engine.Execution.Primitives;
using NeuralBuild.Engine.Ops;
using static NeuralBuild.Engine.Formats.Onnx.Export.OnnxExportGraph;

namespace NeuralBuild.Engine.Formats.Onnx.Export;

/// <summary>
/// Lowerings of element-wise work: every activation (darknet's formulas, written with the ONNX
/// operators that compute them step for step), arithmetic, per-channel affine maps and normalisations.
/// </summary>
internal static class OnnxElementwiseLowering
{
    /// <summary>Activation → the ONNX operator of the same formula, or the formula itself (see docs/onnx-export.md).</summary>
    public static void Activation(OnnxLoweringContext c)
    {
        var attributes = c.Node.AttributesAs<ActivationAttributes>();
        var x = c.Input(0);
        var y = c.Output();
        switch (attributes.Function)
        {
            case "linear":
                c.Unary("Identity", x, y);
                break;
            case "relu":
                c.Unary("Relu", x, y);
                break;
            case "leaky":
                c.Emit("LeakyRelu", [x], [Float("alpha", attributes.Alpha)], y);
                break;
            case "relie":
                c.Emit("LeakyRelu", [x], [Float("alpha", 0.01)], y);
                break;
            case "relu6":
                c.Emit("Clip", [x, c.Scalar("min", 0f), c.Scalar("max", 6f)], null, y);
                break;
            case "hardtan":
                c.Emit("Clip", [x, c.Scalar("min", -1f), c.Scalar("max", 1f)], null, y);
                break;
            case "clip":
                Clip(c, attributes, x, y);
                break;
            case "ramp":
                // (x > 0 ? x : 0) + 0.1 x, the two terms as darknet adds them.
                c.Binary("Add", c.Unary("Relu", x), c.Binary("Mul", x, c.Scalar("tenth", 0.1f)), y);
                break;
            case "logistic" or "sigmoid":
                c.Unary("Sigmoid", x, y);
                break;
            case "loggy":
                c.Binary("Sub", c.Binary("Mul", c.Unary("Sigmoid", x), c.Scalar("two", 2f)), c.Scalar("one", 1f), y);
                break;
            case "tanh":
                c.Unary("Tanh", x, y);
                break;
            case "elu":
                c.Emit("Elu", [x], [Float("alpha", 1)], y);
                break;
            case "selu":
                // darknet's rounded constants, not ONNX's defaults.
                c.Emit("Selu", [x], [Float("alpha", 1.6732), Float("gamma", 1.0507)], y);
                break;
            case "gelu":
                Gelu(c, x, y);
                break;
            case "swish" or "silu":
                c.Binary("Mul", x, c.Unary("Sigmoid", x), y);
                break;
            case "mish":
                // darknet's softplus threshold (20) changes nothing in float: tanh is 1 above it and the identity below -20.
                c.Binary("Mul", x, c.Unary("Tanh", c.Unary("Softplus", x)), y);
                break;
            case "hard_mish":
                HardMish(c, x, y);
                break;
            case "hardsigmoid":
                c.Emit("HardSigmoid", [x], [Float("alpha", attributes.Alpha), Float("beta", attributes.Beta)], y);
                break;
            case "hardswish":
                // x * clamp(x/6 + 1/2, 0, 1): HardSwish itself is opset 14.
                c.Binary("Mul", x, c.Emit("HardSigmoid", [x], [Float("alpha", 1.0 / 6), Float("beta", 0.5)]), y);
                break;
            case "softplus":
                c.Unary("Softplus", x, y);
                break;
            case "prelu":
                Prelu(c, attributes, x, y);
                break;
            case "stair":
                Stair(c, x, y);
                break;
            case "lhtan":
                // x < 0 ? 0.001x : x > 1 ? 0.001(x - 1) + 1 : x
                var small = c.Binary("Mul", x, c.Scalar("slope", 0.001f));
                var above = c.Binary("Add", c.Binary("Mul", c.Binary("Sub", x, c.Scalar("one", 1f)), c.Scalar("slope", 0.001f)), c.Scalar("one", 1f));
                var upper = c.Where(c.Binary("Greater", x, c.Scalar("one", 1f)), above, x);
                c.Where(c.Binary("Less", x, c.Scalar("zero", 0f)), small, upper, y);
                break;
            case "plse":
                // x < -4 ? 0.01(x + 4) : x > 4 ? 0.01(x - 4) + 1 : 0.125x + 0.5
                var low = c.Binary("Mul", c.Binary("Add", x, c.Scalar("four", 4f)), c.Scalar("slope", 0.01f));
                var high = c.Binary("Add", c.Binary("Mul", c.Binary("Sub", x, c.Scalar("four", 4f)), c.Scalar("slope", 0.01f)), c.Scalar("one", 1f));
                var middle = c.Binary("Add", c.Binary("Mul", x, c.Scalar("eighth", 0.125f)), c.Scalar("half", 0.5f));
                var notLow = c.Where(c.Binary("Greater", x, c.Scalar("four", 4f)), high, middle);
                c.Where(c.Binary("Less", x, c.Scalar("minus_four", -4f)), low, notLow, y);
                break;
            default:
                throw c.Refuse(DiagnosticCodes.ExportOperatorUnsupported, $"activation '{attributes.Function}' has no ONNX lowering.");
        }
    }

    private static void Clip(OnnxLoweringContext c, ActivationAttributes attributes, string x, string y)
    {
        var min = double.IsNegativeInfinity(attributes.Min) ? string.Empty : c.Scalar("min", (float)attributes.Min);
        var max = double.IsPositiveInfinity(attributes.Max) ? string.Empty : c.Scalar("max", (float)attributes.Max);
        c.Emit("Clip", [x, min, max], null, y);
    }

    /// <summary>0.5x(1 + tanh(0.797885x + 0.035677x³)), darknet's constants.</summary>
    private static void Gelu(OnnxLoweringContext c, string x, string y)
    {
        var cube = c.Binary("Mul", c.Binary("Mul", x, x), x);
        var inner = c.Binary("Add", c.Binary("Mul", x, c.Scalar("a", 0.797885f)), c.Binary("Mul", cube, c.Scalar("b", 0.035677f)));
        var onePlus = c.Binary("Add", c.Scalar("one", 1f), c.Unary("Tanh", inner));
        c.Binary("Mul", c.Binary("Mul", x, c.Scalar("half", 0.5f)), onePlus, y);
    }

    /// <summary>x &gt; 0 ? x : x &gt; -2 ? x²/2 + x : 0.</summary>
    private static void HardMish(OnnxLoweringContext c, string x, string y)
    {
        var quadratic = c.Binary("Add", c.Binary("Div", c.Binary("Mul", x, x), c.Scalar("two", 2f)), x);
        var negative = c.Where(c.Binary("Greater", x, c.Scalar("minus_two", -2f)), quadratic, c.Scalar("zero", 0f));
        c.Where(c.Binary("Greater", x, c.Scalar("zero", 0f)), x, negative, y);
    }

    /// <summary>darknet's stair: n = floor(x); even n → floor(x/2), odd n → (x - n) + floor(x/2).</summary>
    private static void Stair(OnnxLoweringContext c, string x, string y)
    {
        var n = c.Unary("Floor", x);
        var half = c.Unary("Floor", c.Binary("Div", x, c.Scalar("two", 2f)));
        var even = c.Binary("Equal", n, c.Binary("Mul", c.Unary("Floor", c.Binary("Div", n, c.Scalar("two", 2f))), c.Scalar("two", 2f)));
        c.Where(even, half, c.Binary("Add", c.Binary("Sub", x, n), half), y);
    }

    /// <summary>PRelu: Caffe's per-channel slope as (C, 1, 1); ONNX's broadcast slope as it is; no slope input: LeakyRelu(alpha).</summary>
    private static void Prelu(OnnxLoweringContext c, ActivationAttributes attributes, string x, string y)
    {
        if (!c.HasInput(1))
        {
            c.Emit("LeakyRelu", [x], [Float("alpha", attributes.Alpha)], y);
            return;
        }

        var slope = c.InputShape(1);
        var slopeName = attributes.PerChannelSlope && slope.ElementCount > 1
            ? c.WeightAs(1, OnnxLoweringContext.ChannelDims(slope.ElementCount, c.InputShape(0).Rank))
            : c.Input(1);
        c.Binary("PRelu", x, slopeName, y);
    }

    /// <summary>Arithmetic → Add, Sub, Mul, Div, Max (the same numpy broadcasting).</summary>
    public static void Arithmetic(OnnxLoweringContext c)
    {
        var operation = c.Node.AttributesAs<ArithmeticAttributes>().Operation;
        var opType = operation switch
        {
            ArithmeticOperation.Add => "Add",
            ArithmeticOperation.Sub => "Sub",
            ArithmeticOperation.Mul => "Mul",
            ArithmeticOperation.Div => "Div",
            _ => "Max",
        };
        c.Binary(opType, c.Input(0), c.Input(1), c.Output());
    }

    /// <summary>ChannelAffine → Mul by the scale and Add of the bias, each seen as (C, 1, 1): <c>x*s + t</c> in the kernel's order.</summary>
    public static void ChannelAffine(OnnxLoweringContext c)
    {
        var x = c.InputShape(0);
        var dims = OnnxLoweringContext.ChannelDims(x[1], x.Rank);
        var value = c.Input(0);
        var hasBias = c.HasInput(2);
        if (c.HasInput(1))
        {
            value = c.Binary("Mul", value, c.WeightAs(1, dims), hasBias ? null : c.Output());
        }

        if (hasBias)
        {
            c.Binary("Add", value, c.WeightAs(2, dims), c.Output());
        }
        else if (!c.HasInput(1))
        {
            c.Unary("Identity", value, c.Output());
        }
    }

    /// <summary>
    /// BatchNormalization → ((x - mean) / D) * gamma + beta in darknet's order, with D computed as the
    /// kernel computes it (sqrt(var + eps), or sqrt(var) + eps for pjreddie's forward), so both
    /// epsilon placements are exact; ONNX BatchNormalization knows only the first.
    /// </summary>
    public static void BatchNormalization(OnnxLoweringContext c)
    {
        var attributes = c.Node.AttributesAs<BatchNormAttributes>();
        var x = c.InputShape(0);
        var dims = OnnxLoweringContext.ChannelDims(x[1], x.Rank);
        var variance = c.WeightValues(4);
        var denominators = ChannelNormalization.Denominators(variance, attributes.Epsilon, attributes.EpsilonOutside);
        var centred = c.Binary("Sub", c.Input(0), c.WeightAs(3, dims));
        var normalised = c.Binary("Div", centred, c.Floats("denominator", denominators, dims));
        var hasBeta = c.HasInput(2);
        var scaled = c.HasInput(1) ? c.Binary("Mul", normalised, c.WeightAs(1, dims), hasBeta ? null : c.Output()) : normalised;
        if (hasBeta)
        {
            c.Binary("Add", scaled, c.WeightAs(2, dims), c.Output());
        }
        else if (!c.HasInput(1))
        {
            c.Unary("Identity", scaled, c.Output());
        }
    }

    /// <summary>InstanceNormalization → InstanceNormalization (scale and B, epsilon).</summary>
    public static void InstanceNormalization(OnnxLoweringContext c)
    {
        var epsilon = c.Node.AttributesAs<InstanceNormAttributes>().Epsilon;
        c.Emit("InstanceNormalization", [c.Input(0), c.Input(1), c.Input(2)], [Float("epsilon", epsilon)], c.Output());
    }

    /// <summary>Dropout and Identity → Identity; an ONNX Cast read as an identity → Cast to its type.</summary>
    public static void Identity(OnnxLoweringContext c)
    {
        if (c.Node.AttributesAs<IdentityAttributes>().CastTo is { } to)
        {
            c.Emit("Cast", [c.Input(0)], [Int("to", to)], c.Output());
            return;
        }

        c.Unary("Identity", c.Input(0), c.Output());
    }
}
