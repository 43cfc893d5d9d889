using NeuralBuild.Engine.Diagnostics;
using NeuralBuild.Engine.Ir;
using NeuralBuild.Engine.Ops;

namespace NeuralBuild.Engine.Formats.Darknet;

/// <summary>
/// Translates a parsed cfg into the IR, one section at a time through <see cref="DarknetLayerMap"/>,
/// inferring shapes as it goes (a layer's weight shapes depend on its input). Each section becomes
/// the nodes that compute what darknet computes, in darknet's order.
/// </summary>
internal sealed class DarknetGraphBuilder
{
    private const string InputName = "data";

    private readonly CfgDocument _document;
    private readonly DarknetDialect _dialect;
    private readonly Graph _graph = new();
    private readonly Dictionary<string, Shape> _shapes = new(StringComparer.Ordinal);
    private readonly List<DarknetLayer> _layers = [];
    private readonly List<Diagnostic> _warnings = [];
    private readonly Dictionary<string, int> _storedOrder = new(StringComparer.Ordinal);

    private DarknetGraphBuilder(CfgDocument document, DarknetDialect dialect)
    {
        _document = document;
        _dialect = dialect;
    }

    /// <summary>Each [convolutional]'s stored tensors by layer index (see <see cref="DarknetSection.ConvParametersOf"/>).</summary>
    internal Dictionary<int, DarknetConvParameters> ConvParameters { get; } = [];

    internal DarknetDialect Dialect => _dialect;

    internal Shape ShapeOf(string value) => _shapes[value];

    public static (Graph Graph, List<DarknetLayer> Layers, List<Diagnostic> Warnings) Build(CfgDocument document, DarknetDialect dialect, Shape? inputShape)
    {
        var builder = new DarknetGraphBuilder(document, dialect);
        builder.BuildAll(inputShape);
        return (builder._graph, builder._layers, builder._warnings);
    }

    private void BuildAll(Shape? inputOverride)
    {
        if (_document.Sections.Count == 0 || _document.Sections[0].Type is not ("net" or "network"))
        {
            var where = _document.Sections.Count > 0 ? _document.Sections[0].Location : new SourceLocation(_document.Path, 1, 1);
            throw DiagnosticCodes.CfgMissingNet.Exception(where, "The first section of a Darknet cfg must be [net] (or [network]).");
        }

        if (_document.Sections.Count == 1)
        {
            throw DiagnosticCodes.CfgNoLayers.Exception(_document.Sections[0].Location, "The cfg has a [net] section but no layers.");
        }

        var input = inputOverride ?? NetInputShape(_document.Sections[0]);
        if (!ModelLimits.FitsElementLimit(input))
        {
            throw DiagnosticCodes.CfgTensorTooLarge.Exception(_document.Sections[0].Location, ModelLimits.ElementLimitReason("The input", input));
        }

        _graph.Inputs[InputName] = input;
        _shapes[InputName] = input;

        var previous = InputName;
        for (var i = 1; i < _document.Sections.Count; i++)
        {
            var section = _document.Sections[i];
            var layer = new DarknetLayer(i - 1, section, new LayerOrigin(i - 1, section.Type, $"{i - 1}", section.Location));
            using (Checked.At(section.Location))
            {
                layer.Output = DarknetLayerMap.Map(new DarknetSection(this, layer, previous));
            }

            layer.OutputShape = _shapes[layer.Output];
            _layers.Add(layer);
            previous = layer.Output;
        }

        // Outputs: every layer nobody reads (detection heads, the classifier's last layer).
        var read = new HashSet<string>(_graph.Nodes.SelectMany(n => n.Inputs), StringComparer.Ordinal);
        foreach (var layer in _layers)
        {
            if (!read.Contains(layer.Output) && !_graph.Outputs.Contains(layer.Output))
            {
                _graph.Outputs.Add(layer.Output);
            }
        }
    }

    private static Shape NetInputShape(CfgSection net)
    {
        var h = net.NonNegative("height", 0);
        var w = net.NonNegative("width", 0);
        var c = net.NonNegative("channels", 0);
        if (h > 0 && w > 0 && c > 0)
        {
            return Shape.Nchw(1, c, h, w);
        }

        var inputs = net.Int("inputs", Checked.Mul(h, w, c), 0, ModelLimits.MaxElements);
        if (inputs > 0 && h == 0 && w == 0)
        {
            return Shape.Nchw(1, inputs, 1, 1);
        }

        // Point at the offending value when the cfg wrote one (width=0), else at [net] (option missing).
        var offending = new[] { ("width", w), ("height", h), ("channels", c) }
            .Where(option => option.Item2 == 0)
            .Select(option => net.Find(option.Item1))
            .FirstOrDefault(option => option is not null);
        throw DiagnosticCodes.CfgInvalidValue.Exception(offending?.Location ?? net.Location,
            $"[net] needs positive width, height and channels (got width={w}, height={h}, channels={c}).");
    }

    internal DarknetLayer ResolveLayer(DarknetLayer layer, long index, CfgOption option)
    {
        if (index < 0 || index >= layer.Index)
        {
            throw DiagnosticCodes.CfgBadLayerReference.Exception(option.Location,
                $"layer {layer.Index} [{layer.Section.Type}] {option.Key}={option.Value} refers to layer {index}, but only layers 0..{layer.Index - 1} come before it.");
        }

        return _layers[(int)index];
    }

    internal string AddStored(DarknetLayer layer, string role, Shape shape, int order)
    {
        if (!ModelLimits.FitsElementLimit(shape))
        {
            throw DiagnosticCodes.CfgTensorTooLarge.Exception(layer.Section.Location,
                ModelLimits.ElementLimitReason($"layer {layer.Index} [{layer.Section.Type}] {role}", shape));
        }

        var name = $"layer{layer.Index}/{role}";
        _graph.Initializers[name] = new Initializer(name, shape, data: null) { Filler = DarknetFillers.For(layer, role, shape, _dialect) };
        _shapes[name] = shape;
        _storedOrder[name] = order;

        // The builder meets tensors in graph order; the file holds them in darknet's order: insert in place.
        var at = layer.StoredTensors.Count;
        while (at > 0 && _storedOrder[layer.StoredTensors[at - 1]] > order)
        {
            at--;
        }

        layer.StoredTensors.Insert(at, name);
        return name;
    }

    internal string AddNode(Node node)
    {
        var kind = OpRegistry.Get(node);
        var inputShapes = new List<Shape?>(node.Inputs.Count);
        foreach (var input in node.Inputs)
        {
            inputShapes.Add(input.Length == 0 ? null : _shapes.GetValueOrDefault(input));
        }

        var outputs = kind.InferShapes(new OpContext(node, inputShapes));
        for (var i = 0; i < node.Outputs.Count; i++)
        {
            // Refused here, at the section that makes it, before anything downstream sizes a buffer from it.
            if (!ModelLimits.FitsElementLimit(outputs[i]))
            {
                throw DiagnosticCodes.CfgTensorTooLarge.Exception(node.Origin.Location,
                    ModelLimits.ElementLimitReason($"layer {node.Origin.Index} [{node.Origin.Kind}] output", outputs[i]));
            }

            _shapes[node.Outputs[i]] = outputs[i];
        }

        _graph.Nodes.Add(node);
        return node.Outputs[0];
    }

}
