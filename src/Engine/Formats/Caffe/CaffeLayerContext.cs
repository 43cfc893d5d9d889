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
        var outputValues = new List<string>();
        for (var i = 0; i < p.Top.Count; i++)
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

        var node = new Node(p.Name, op, inputs, outputValues, Layer.Origin) { InPlace = inPlace || forceInPlace };
        configure?.Invoke(node.Attributes);
        var kind = OpRegistry.Get(node);
        var shapes = kind.InferShapes(new OpContext(node, [.. inputs.Select(i => i.Length == 0 ? null : Net.Shapes.GetValueOrDefault(i))]));
        for (var i = 0; i < outputValues.Count; i++)
        {
            if (!ModelLimits.FitsElementLimit(shapes[i]))
            {
                throw DiagnosticCodes.CaffeBlobTooLarge.Exception(Layer.Origin.Location,
                    ModelLimits.ElementLimitReason($"layer '{p.Name}' [{p.Type}] top '{p.Top[i]}'", shapes[i]));
            }
        }

        for (var i = 0; i < outputValues.Count; i++)
        {
            Net.Shapes[outputValues[i]] = shapes[i];
            Net.Current[p.Top[i]] = outputValues[i];
            Net.BlobOfValue[outputValues[i]] = p.Top[i];
            Net.Available.Remove(p.Top[i]);
            Net.Available.Add(p.Top[i]);
        }

        Net.Graph.Nodes.Add(node);
        Layer.Node = node.Name;
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
