using NeuralBuild.Engine.Execution;
using NeuralBuild.Engine.Ir;

namespace NeuralBuild.Engine.Ops;

/// <summary>
/// Element-wise activation. Attribute <c>function</c> names it (Darknet's spellings: linear,
/// leaky, relu, logistic, tanh, swish, mish, …); <c>alpha</c> is the leaky slope.
/// </summary>
public sealed class Activation : OpKind<ActivationAttributes>
{
    /// <summary>
    /// FLOPs per element, written once here. Conventions of the field: a compare/select counts 1;
    /// exp, log, tanh and division count 1 each as in fvcore/ptflops; sigmoid = neg, exp, add, div = 4;
    /// swish = sigmoid + mul = 5; mish = x*tanh(softplus(x)) = exp, add, log, tanh, mul = 5;
    /// tanh = 1 when a library call, but written as (e^x - e^-x)/(e^x + e^-x) it is 5 (2 exp, 2 add, 1 div).
    /// </summary>
    private static readonly Dictionary<string, long> s_flopsPerElement = new(StringComparer.Ordinal)
    {
        ["linear"] = 0,
        ["relu"] = 1,
        ["leaky"] = 1,
        ["relu6"] = 1,
        ["ramp"] = 2, // x > 0 ? x + 0.1x : 0.1x
        ["relie"] = 1,
        ["stair"] = 2,
        ["hardtan"] = 2,
        ["lhtan"] = 2,
        ["plse"] = 3,
        ["logistic"] = 4,
        ["sigmoid"] = 4,
        ["loggy"] = 5, // 2*sigmoid - 1
        ["tanh"] = 5,
        ["elu"] = 3,
        ["selu"] = 4,
        ["gelu"] = 8, // 0.5x(1 + tanh(0.797885x + 0.035677x^3)): 3 mul, 2 add, tanh, 2 mul
        ["swish"] = 5,
        ["silu"] = 5,
        ["mish"] = 5,
        ["hard_mish"] = 4,
        ["hardsigmoid"] = 3,
        ["hardswish"] = 4,
        ["softplus"] = 3,
        ["prelu"] = 1,
        ["clip"] = 2, // ONNX Clip with bounds other than relu/relu6: two compares (attributes min, max)
    };

    public const string OpType = "Activation";

    public override string Name => OpType;

    internal override Kernel Kernel { get; } = new ActivationKernel();

    public static bool IsKnown(string function) => s_flopsPerElement.ContainsKey(function);

    public static IEnumerable<string> KnownFunctions => s_flopsPerElement.Keys;

    /// <remarks>
    /// <c>alpha</c> and <c>beta</c> default per function: ONNX HardSigmoid's 0.2 and 0.5, leaky's 0 (a
    /// reader always states darknet's 0.1). Clip's bounds default to no bound.
    /// </remarks>
    protected override ActivationAttributes Parse(AttributeReader attributes)
    {
        var function = attributes.String("function");
        if (!IsKnown(function))
        {
            throw attributes.OutOfRange($"activation '{function}' is not known; known: {string.Join(", ", KnownFunctions)}.");
        }

        var hardSigmoid = function == "hardsigmoid";
        return new ActivationAttributes(
            function,
            attributes.Float("alpha", hardSigmoid ? 0.2 : 0),
            attributes.Float("beta", hardSigmoid ? 0.5 : 0),
            attributes.Float("min", double.NegativeInfinity),
            attributes.Float("max", double.PositiveInfinity),
            attributes.Has("channel_shared"));
    }

    protected override Shape[] Infer(OpContext context)
    {
        var attributes = AttributesOf(context.Node);
        var x = context.Input(0);
        if (attributes.Function == "prelu" && context.HasInput(1) && context.Input(1).ElementCount != 1)
        {
            // Caffe's per-channel slope (channel_shared marks the form), ONNX's broadcast one.
            if (attributes.PerChannelSlope)
            {
                PerChannel.RequireCount(context, 1, "slope", PerChannel.Channels(x), "channels");
            }
            else
            {
                PerChannel.RequireBroadcast(context, 1, "slope", x);
            }
        }

        return [x];
    }

    public override OpCost Cost(OpContext context) =>
        new() { Flops = new FlopTerms(Activation: Checked.Mul(s_flopsPerElement[AttributesOf(context.Node).Function], context.Output.ElementCount)) };
}

/// <summary>
/// Attributes of <see cref="Activation"/>: the function (darknet's spelling where darknet has it),
/// its parameters (<c>alpha</c>: leaky's and PRelu's slope, HardSigmoid's slope; <c>beta</c>:
/// HardSigmoid's offset; Clip's <c>min</c>/<c>max</c>), and for PRelu whether the slope input is
/// Caffe's one-per-channel form (attribute <c>channel_shared</c> present) rather than ONNX's broadcast one.
/// </summary>
public sealed record ActivationAttributes(string Function, double Alpha, double Beta, double Min, double Max, bool PerChannelSlope);
