using System.Globalization;

namespace NeuralBuild.Engine.Ir;

/// <summary>
/// A node's attributes as readers write them: integers, floats, strings and lists of integers or
/// floats by name. Only the node's operator reads them by name: it parses them once into its typed
/// record (<c>Ops.OpKind&lt;TAttributes&gt;</c>), which is kept here until an attribute changes.
/// Reading an attribute with the wrong type is a programming error (readers decide the types), so it
/// throws <see cref="InvalidOperationException"/> rather than a coded diagnostic.
/// </summary>
public sealed class Attributes
{
    // A Dictionary (precompiled for reference types) rather than a SortedDictionary, whose generic
    // code every short process had to JIT-compile; the names are sorted where order shows.
    private readonly Dictionary<string, object> _values = new(StringComparer.Ordinal);

    /// <summary>The operator's typed record of these values; dropped by every <see cref="Set(string, long)"/>.</summary>
    private object? _parsed;

    public IEnumerable<string> Names => _values.Keys.Order(StringComparer.Ordinal);

    public bool Has(string name) => _values.ContainsKey(name);

    public Attributes Set(string name, long value) => Put(name, value);

    public Attributes Set(string name, double value) => Put(name, value);

    public Attributes Set(string name, string value) => Put(name, value);

    public Attributes Set(string name, long[] value) => Put(name, value.Clone());

    public Attributes Set(string name, double[] value) => Put(name, value.Clone());

    public long Int(string name) => Get<long>(name);

    public long Int(string name, long fallback) => _values.TryGetValue(name, out var v) ? Cast<long>(name, v) : fallback;

    public double Float(string name) => Get<double>(name);

    public double Float(string name, double fallback) => _values.TryGetValue(name, out var v) ? Cast<double>(name, v) : fallback;

    public string String(string name) => Get<string>(name);

    public string String(string name, string fallback) => _values.TryGetValue(name, out var v) ? Cast<string>(name, v) : fallback;

    public long[] Ints(string name) => (long[])Get<long[]>(name).Clone();

    public long[] Ints(string name, long[] fallback) => _values.TryGetValue(name, out var v) ? (long[])Cast<long[]>(name, v).Clone() : fallback;

    public double[] Floats(string name) => (double[])Get<double[]>(name).Clone();

    public Attributes Clone()
    {
        var copy = new Attributes();
        foreach (var (k, v) in _values)
        {
            copy._values[k] = v is Array a ? a.Clone() : v;
        }

        return copy;
    }

    public override string ToString() => string.Join(", ", Names.Select(name => $"{name}={Format(_values[name])}"));

    private static string Format(object v) => v switch
    {
        long[] a => "[" + string.Join(",", a) + "]",
        double[] a => "[" + string.Join(",", a.Select(x => x.ToString("R", CultureInfo.InvariantCulture))) + "]",
        double d => d.ToString("R", CultureInfo.InvariantCulture),
        _ => Convert.ToString(v, CultureInfo.InvariantCulture) ?? string.Empty,
    };

    /// <summary>The typed record <paramref name="parse"/> makes of these values, made once while they do not change.</summary>
    /// <remarks>The parser takes the node as an argument: a lambda capturing it would be allocated on every call, also when the record is already made.</remarks>
    internal T Parsed<T>(Func<Node, T> parse, Node node)
        where T : class
    {
        if (_parsed is T parsed)
        {
            return parsed;
        }

        parsed = parse(node);
        _parsed = parsed;
        return parsed;
    }

    private Attributes Put(string name, object value)
    {
        _values[name] = value;
        _parsed = null;
        return this;
    }

    private T Get<T>(string name) =>
        _values.TryGetValue(name, out var v) ? Cast<T>(name, v) : throw new InvalidOperationException($"Attribute '{name}' is missing.");

    private static T Cast<T>(string name, object v) =>
        v is T t ? t : throw new InvalidOperationException($"Attribute '{name}' is {v.GetType().Name}, not {typeof(T).Name}.");
}
