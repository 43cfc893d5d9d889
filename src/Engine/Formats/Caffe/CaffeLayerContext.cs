using Google.Protobuf;
using NeuralBuild.Engine.Diagnostics;
using NeuralBuild.Engine.Ir;
using NeuralBuild.Engine.Ops;

namespace NeuralBuild.Engine.Formats.Caffe;

/// <summary>
/// One layer as its mapper sees it: the layer and its source location, its bottoms as IR values,
/// and the helpers that emit its node, declare its weights and refuse it with a coded error at the
/// line and column of the offending field.
/// </summary>
internal sealed class CaffeLayerContext(CaffeNetState net, CaffeLayer layer)
{
    public CaffeNetState Net { get; } = net;

    public CaffeLayer Layer { get; } = layer;

    /// <summary>The layer's parameters (a V1 layer already upgraded).</summary>
    public Proto.LayerParameter P => Layer.Layer;

    private readonly List<string> _bottomValues = [];

    private readonly List<Node> _emitted = [];

    public PrototxtSourceMap Map => Net.Map;

    public Shape ShapeOf(string value) => Net.Shapes[value];

    public void Unary(string op, Action<Attributes> configure, bool forceInPlace = false) =>
        Emit(op, Bottoms(1, 1), 1, configure: configure, forceInPlace: forceInPlace);

    /// <summary>The IR values of the layer's bottoms, checking their number and that each exists.</summary>
    public List<string> Bottoms(int min, int max)
    {
        var p = P;
        if (p.Bottom.Count < min || p.Bottom.Count > max)
        {
            var expected = min == max ? $"{min}" : max == int.MaxValue ? $"at least {min}" : $"{min} to {max}";
            throw Invalid(p.Bottom.Count > 0 ? "bottom" : "type", $"a {p.Type} layer takes {expected} bottom(s) but '{p.Name}' has {p.Bottom.Count}.");
        }

        var values = new List<string>();
        for (var i = 0; i < p.Bottom.Count; i++)
        {
            var blob = p.Bottom[i];
            if (!Net.Current.TryGetValue(blob, out var value))
            {
                throw DiagnosticCodes.CaffeUnknownBottom.Exception(Map.Of(Layer.Source, "bottom", i),
                    $"layer '{p.Name}' reads bottom '{blob}', which no input or earlier layer of the TEST network produces{Net.Suggest(blob)}.");
            }

            values.Add(value);
            Net.Available.Remove(blob);
            _bottomValues.Add(value);
        }

        return values;
    }

    public void Emit(string op, List<string> inputs, int outputs, Action<Attributes>? configure = null, bool forceInPlace = false)
    {
        var p = P;
        if (p.Top.Count != outputs)
        {
            throw Invalid(p.Top.Count > 0 ? "top" : "type", $"a {p.Type} layer produces {outputs} top(s) but '{p.Name}' lists {p.Top.Count}.");
        }

        var inPlace = p.Top.Count > 0 && p.Bottom.Count > 0 && p.Top[0] == p.Bottom[0];
        AddNode(p.Name, op, inputs, [.. Enumerable.Range(0, outputs)], inPlace || forceInPlace, configure);
    }

    /// <summary>
    /// One node of a layer lowered into several, producing top <paramref name="top"/> alone (a Slice:
    /// one StridedSlice per top). The node of top 0 is named after the layer, the others after their top.
    /// </summary>
    public void EmitTop(int top, string op, List<string> inputs, Action<Attributes> configure)
    {
        var name = top == 0 ? P.Name : Net.Unique($"{P.Name}/{P.Top[top]}");
        Net.UsedNames.Add(name);
        AddNode(name, op, inputs, [top], inPlace: false, configure);
    }

    /// <summary>
    /// One inner node of a layer lowered into several (a term of an Eltwise chain): its output is a
    /// value of its own, none of the layer's tops. Returns that value.
    /// </summary>
    public string EmitInner(string role, string op, List<string> inputs, Action<Attributes> configure, bool inPlace)
    {
        var name = Net.Unique($"{P.Name}/{role}");
        Net.UsedNames.Add(name);
        var node = new Node(name, op, inputs, [name], Layer.Origin) { InPlace = inPlace };
        configure(node.Attributes);
        Net.Shapes[name] = InferChecked(node, inputs, _ => $"value '{name}'")[0];
        Append(node);
        return name;
    }

    /// <summary>A scalar constant of the layer's own (an Eltwise coefficient, stated in the prototxt, not a blob).</summary>
    public string Constant(string role, float value)
    {
        var name = Net.Unique($"{P.Name}/{role}");
        Net.UsedNames.Add(name);
        var shape = new Shape(1);
        Net.Graph.Initializers[name] = new Initializer(name, shape, new ArrayData([value])) { Stated = true };
        Net.Shapes[name] = shape;
        return name;
    }

    /// <summary>
    /// After the layer's mapper: a layer that became several nodes marks them <see cref="LayerOrigin.Lowered"/>
    /// and finds where each bottom is read (the first unclaimed input that is the bottom's value; a
    /// lowered layer reads every bottom); a one-node layer reads bottom i at input i.
    /// </summary>
    public void Complete()
    {
        var nodes = _emitted;
        if (nodes.Count <= 1)
        {
            // No node (Input, Silence) or one: bottom i is its input i.
            for (var i = 0; nodes.Count == 1 && i < P.Bottom.Count && i < nodes[0].Inputs.Count; i++)
            {
                Layer.BottomPorts.Add((nodes[0].Name, i));
            }

            return;
        }

        var claimed = new HashSet<(string, int)>();
        foreach (var value in _bottomValues)
        {
            var port = nodes.SelectMany(n => n.Inputs.Select((input, k) => (Node: n.Name, Input: k, Value: input)))
                .First(c => c.Value == value && !claimed.Contains((c.Node, c.Input)));
            claimed.Add((port.Node, port.Input));
            Layer.BottomPorts.Add((port.Node, port.Input));
        }

        foreach (var node in nodes)
        {
            node.Origin = node.Origin with { Lowered = true };
        }
    }

    private void AddNode(string name, string op, List<string> inputs, int[] tops, bool inPlace, Action<Attributes>? configure)
    {
        var p = P;
        var outputValues = new List<string>();
        foreach (var i in tops)
        {
            var top = p.Top[i];
            var rewritesBottom = p.Bottom.Contains(top);
            if (Net.Current.ContainsKey(top) && !rewritesBottom)
            {
                throw DiagnosticCodes.CaffeDuplicateTop.Exception(Map.Of(Layer.Source, "top", i),
                    $"layer '{p.Name}' produces '{top}', which an earlier layer or input already produces; only a layer computing in place (top == bottom) may write an existing blob.");
            }

            var value = Net.Current.ContainsKey(top) ? Net.Unique($"{top}@{p.Name}") : top;
            Net.UsedNames.Add(value);
            outputValues.Add(value);
        }

        var node = new Node(name, op, inputs, outputValues, Layer.Origin) { InPlace = inPlace };
        configure?.Invoke(node.Attributes);
        var shapes = InferChecked(node, inputs, k => $"top '{p.Top[tops[k]]}'");
        for (var k = 0; k < tops.Length; k++)
        {
            var top = p.Top[tops[k]];
            Net.Shapes[outputValues[k]] = shapes[k];
            Net.Current[top] = outputValues[k];
            Net.BlobOfValue[outputValues[k]] = top;
            Net.Available.Remove(top);
            Net.Available.Add(top);
            Layer.TopPorts.Add((name, k));
        }

        Append(node);
    }

    /// <summary>The node's output shapes, each checked against the element limit.</summary>
    private Shape[] InferChecked(Node node, List<string> inputs, Func<int, string> describeOutput)
    {
        var shapes = OpRegistry.Get(node).InferShapes(new OpContext(node, [.. inputs.Select(i => i.Length == 0 ? null : Net.Shapes.GetValueOrDefault(i))]));
        for (var i = 0; i < shapes.Length; i++)
        {
            if (!ModelLimits.FitsElementLimit(shapes[i]))
            {
                throw DiagnosticCodes.CaffeBlobTooLarge.Exception(Layer.Origin.Location,
                    ModelLimits.ElementLimitReason($"layer '{P.Name}' [{P.Type}] {describeOutput(i)}", shapes[i]));
            }
        }

        return shapes;
    }

    private void Append(Node node)
    {
        Net.Graph.Nodes.Add(node);
        _emitted.Add(node);
        Layer.Nodes.Add(node.Name);
        if (node.Name == P.Name)
        {
            Layer.Node = node.Name;
        }
    }

    /// <summary>
    /// The initializer for blob <paramref name="index"/> of the layer. A blob named through
    /// <c>param {{ name: … }}</c> is shared by every layer that names it and stored once.
    /// </summary>
    public string Param(int index, string role, Shape shape)
    {
        var p = P;
        string name;
        var shareName = index < p.Param.Count && p.Param[index].HasName && p.Param[index].Name.Length > 0 ? p.Param[index].Name : null;
        if (shareName is not null && Net.SharedParams.TryGetValue(shareName, out var shared))
        {
            if (!Net.Graph.Initializers[shared].Shape.Equals(shape))
            {
                throw Invalid("param", $"shares parameter '{shareName}' of shape {Net.Graph.Initializers[shared].Shape} but needs {shape} here.");
            }

            name = shared;
        }
        else
        {
            if (!ModelLimits.FitsElementLimit(shape))
            {
                throw DiagnosticCodes.CaffeBlobTooLarge.Exception(Layer.Origin.Location, ModelLimits.ElementLimitReason($"layer '{p.Name}' [{p.Type}] {role}", shape));
            }

            name = Net.Unique($"{p.Name}/{role}");
            Net.Graph.Initializers[name] = new Initializer(name, shape, data: null) { Filler = CaffeFillers.For(this, index, shape) };
            Net.Shapes[name] = shape;
            Net.UsedNames.Add(name);
            if (shareName is not null)
            {
                Net.SharedParams[shareName] = name;
            }
        }

        Layer.Blobs.Add(new CaffeBlobSlot(index, role, name, shape));
        return name;
    }

    public Shape RequireImage(string value)
    {
        var x = Net.Shapes[value];
        return x.Rank == 4
            ? x
            : throw DiagnosticCodes.ShapeMismatch.Exception(Layer.Origin.Location,
                $"layer '{P.Name}' [{P.Type}] needs an image (N x C x H x W) but '{Net.BlobOfValue[value]}' is {x}.");
    }

    /// <summary>A count field (num_output, local_size, num_classes) at most 2^20, refused at its value.</summary>
    public void AtMostExtent(IMessage message, string field, long value)
    {
        if (value > ModelLimits.MaxExtent)
        {
            throw Invalid(message, field, $"{field} {value} is too large: {ModelLimits.ExtentLimitReason}.");
        }
    }

    /// <summary>An axis field, in [-rank, rank) as Caffe's CanonicalAxisIndex requires; refused at its value otherwise.</summary>
    public long Axis(IMessage message, string field, long axis, Shape x) =>
        axis >= -x.Rank && axis < x.Rank
            ? (axis < 0 ? axis + x.Rank : axis)
            : throw Invalid(message, field, $"{field} {axis} does not exist in the bottom {x} (Caffe accepts {-x.Rank} to {x.Rank - 1}).");

    public NeuralException Invalid(string field, string message) =>
        DiagnosticCodes.CaffeInvalidParameter.Exception(Map.Of(Layer.Source, field), $"layer '{P.Name}' [{P.Type}]: {message}");

    public NeuralException Invalid(IMessage parameters, string field, string message) =>
        Invalid(parameters, field, 0, message);

    public NeuralException Invalid(IMessage parameters, string field, int index, string message) =>
        DiagnosticCodes.CaffeInvalidParameter.Exception(Map.Of(parameters, field, index), $"layer '{P.Name}' [{P.Type}]: {message}");

    public NeuralException UnsupportedOption(IMessage parameters, string field, string message) =>
        UnsupportedOption(parameters, field, 0, message);

    public NeuralException UnsupportedOption(IMessage parameters, string field, int index, string message) =>
        DiagnosticCodes.CaffeUnsupportedOption.Exception(Map.Of(parameters, field, index), $"layer '{P.Name}' [{P.Type}]: {message}");
}
