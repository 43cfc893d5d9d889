using NeuralBuild.Engine.Diagnostics;
using NeuralBuild.Engine.Ir;

namespace NeuralBuild.Engine.Ops;

/// <summary>
/// An operator whose attributes are a typed record: the op parses, defaults and validates them in
/// one place (<see cref="Parse"/>); shape rules, costs, kernels, passes and writers read the record,
/// never the attribute names.
/// </summary>
public abstract class OpKind<TAttributes> : OpKind
    where TAttributes : class
{
    /// <summary>The node's attributes as this op's record, parsed once while they do not change; bad values are NM0025 at the node.</summary>
    public TAttributes AttributesOf(Node node)
    {
        ArgumentNullException.ThrowIfNull(node);
        return node.Attributes.Parsed(() => Parse(new AttributeReader(node)));
    }

    protected abstract TAttributes Parse(AttributeReader attributes);
}

/// <summary>Typed reads of one node's attributes, with range checks that fail as NM0025 at the node's location.</summary>
public sealed class AttributeReader(Node node)
{
    private readonly Attributes _values = node.Attributes;

    public bool Has(string name) => _values.Has(name);

    public long Int(string name) => _values.Int(name);

    public long Int(string name, long fallback) => _values.Int(name, fallback);

    /// <summary>An integer in [<paramref name="min"/>, <paramref name="max"/>] (default: up to <see cref="ModelLimits.MaxExtent"/>).</summary>
    public long Int(string name, long fallback, long min, long max = ModelLimits.MaxExtent)
    {
        var value = _values.Int(name, fallback);
        return value >= min && value <= max
            ? value
            : throw OutOfRange($"{name}={value} must be {(max == ModelLimits.MaxExtent ? $"at least {min} and {ModelLimits.ExtentLimitReason}" : $"in [{min}, {max}]")}.");
    }

    /// <summary>An integer that is 0 or 1 (the readers store flags so).</summary>
    public bool Flag(string name, bool fallback = false) => _values.Int(name, fallback ? 1 : 0) != 0;

    public double Float(string name) => _values.Float(name);

    public double Float(string name, double fallback) => _values.Float(name, fallback);

    public string String(string name) => _values.String(name);

    public string String(string name, string fallback) => _values.String(name, fallback);

    /// <summary>A string from a closed set, mapped to its value; any other is NM0025.</summary>
    /// <summary>
    /// The value named by the attribute (default <paramref name="fallback"/>) among a few
    /// <paramref name="choices"/>: a list, not a dictionary, because a dictionary per enum costs the
    /// first model read a dozen JIT-compiled methods each (bench/README.md, cold start).
    /// </summary>
    public T Choice<T>(string name, string fallback, ReadOnlySpan<(string Name, T Value)> choices)
    {
        var value = _values.String(name, fallback);
        foreach (var choice in choices)
        {
            if (string.Equals(choice.Name, value, StringComparison.Ordinal))
            {
                return choice.Value;
            }
        }

        var names = new string[choices.Length];
        for (var i = 0; i < choices.Length; i++)
        {
            names[i] = choices[i].Name;
        }

        throw OutOfRange($"{name} '{value}' is not one of {string.Join(", ", names)}.");
    }

    public long[] Ints(string name) => _values.Ints(name);

    public long[] Ints(string name, long[] fallback) => _values.Ints(name, fallback);

    public double[] Floats(string name) => _values.Floats(name);

    public double[] Floats(string name, double[] fallback) => _values.Has(name) ? _values.Floats(name) : fallback;

    public NeuralException OutOfRange(string message) =>
        DiagnosticCodes.AttributeOutOfRange.Exception(node.Origin.Location, $"layer {node.Origin.Index} [{node.Origin.Kind}]: {message}");
}

/// <summary>Access to a node's typed attribute record from outside its operator.</summary>
public static class NodeAttributes
{
    /// <summary>The node's attributes as <typeparamref name="T"/>, the record of the node's operator; asking a node of another operator is a programming error.</summary>
    public static T AttributesAs<T>(this Node node)
        where T : class
    {
        ArgumentNullException.ThrowIfNull(node);
        return OpRegistry.Get(node) is OpKind<T> kind
            ? kind.AttributesOf(node)
            : throw new InvalidOperationException($"Node '{node.Name}' is a {node.OpType}, whose attributes are not {typeof(T).Name}.");
    }
}
