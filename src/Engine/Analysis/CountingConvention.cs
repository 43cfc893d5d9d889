using NeuralBuild.Engine.Diagnostics;
using NeuralBuild.Engine.Ir;
using NeuralBuild.Engine.Ops;

namespace NeuralBuild.Engine.Analysis;

/// <summary>
/// How "FLOPs" is counted. Every tool of the field counts differently; each preset reproduces one
/// tool's published figure on the same model, and names itself in every report.
/// </summary>
public sealed class CountingConvention
{
    private readonly Func<Node, OpCost, long> _flops;

    private CountingConvention(string name, string description, Func<Node, OpCost, long> flops)
    {
        Name = name;
        Description = description;
        _flops = flops;
    }

    public string Name { get; }

    public string Description { get; }

    /// <summary>The default: 2 x MACC of conv, deconv and fully-connected layers (Darknet "BFLOPs", TF profiler).</summary>
    public static CountingConvention Default { get; } = new("default",
        "2 x MACC of conv, deconv, locally-connected and fully-connected layers, bias excluded", (_, c) => 2 * c.Macc);

    public static IReadOnlyList<CountingConvention> All { get; } =
    [
        Default,
        new("darknet",
            "what pjreddie's `darknet ops` prints: 2 x MACC of [convolutional] and [connected] only",
            (n, c) => n.OpType is "Conv" or "FullyConnected" ? 2 * c.Macc : 0),
        new("alexeyab",
            "AlexeyAB's \"Total BFLOPS\": 2 x MACC of conv (divided by 32 for xnor=1) and connected, plus one op per maxpool window element and per shortcut add (an element-wise Add, or darknet's Shortcut of mismatched shapes)",
            AlexeyAbFlops),
        new("torchvision",
            "torchvision's \"GFLOPS\" column: MACs of conv and linear layers",
            (_, c) => c.Macc),
        new("fvcore", "fvcore FlopCountAnalysis: one FLOP per MAC of conv and linear layers", (_, c) => c.Macc),
        new("ptflops", "ptflops \"FLOPs\" (really MACs) of conv and linear layers", (_, c) => c.Macc),
        new("tf-profiler", "TensorFlow profiler float_ops: 2 x MACC", (_, c) => 2 * c.Macc),
        new("no-bias", "(2K - 1) per output element of conv/FC: K multiplies and K - 1 adds", (_, c) => (2 * c.Macc) - c.MaccOutputs),
        new("with-bias", "(2K + 1) per output element of conv/FC: K multiplies, K - 1 adds and the bias add", (_, c) => (2 * c.Macc) + c.MaccOutputs),
    ];

    public static CountingConvention Get(string name) =>
        All.FirstOrDefault(c => string.Equals(c.Name, name, StringComparison.OrdinalIgnoreCase))
        ?? throw DiagnosticCodes.UnknownConvention.Exception(SourceLocation.None,
            $"Unknown counting convention '{name}'; known: {string.Join(", ", All.Select(c => c.Name))}.");

    public long Flops(Node node, OpCost cost) => _flops(node, cost);

    private static long AlexeyAbFlops(Node node, OpCost cost) => node.OpType switch
    {
        "Conv" => node.AttributesAs<ConvAttributes>().Xnor ? 2 * cost.Macc / 32 : 2 * cost.Macc,
        "FullyConnected" => 2 * cost.Macc,
        "MaxPool" or "AveragePool" => cost.Flops.Pooling,
        "Shortcut" => cost.Flops.Elementwise / (node.AttributesAs<ShortcutAttributes>().IsWeighted(node.Inputs.Count) ? 2 : 1),
        "Arithmetic" => node.AttributesAs<ArithmeticAttributes>().Operation == ArithmeticOperation.Add ? cost.Flops.Elementwise : 0,
        _ => 0,
    };
}
