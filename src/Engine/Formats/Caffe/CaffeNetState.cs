using System.Globalization;
using NeuralBuild.Engine.Formats.Caffe.Proto;
using NeuralBuild.Engine.Ir;

namespace NeuralBuild.Engine.Formats.Caffe;

/// <summary>
/// The network as built so far: the graph, the shape of every IR value, which IR value holds each
/// blob's current version (in-place layers write new versions), and the names already taken.
/// </summary>
internal sealed class CaffeNetState(string path, NetParameter net, PrototxtSourceMap map, Shape? inputOverride)
{
    /// <summary>Caffe's kMaxBlobAxes: a blob, and so an input or reshape, has at most 32 axes.</summary>
    public const int MaxAxes = 32;

    public string Path { get; } = path;

    public NetParameter Net { get; } = net;

    public PrototxtSourceMap Map { get; } = map;

    public Shape? InputOverride { get; } = inputOverride;

    public Graph Graph { get; } = new();

    public Dictionary<string, Shape> Shapes { get; } = new(StringComparer.Ordinal);

    public List<CaffeLayer> Layers { get; } = [];

    public Dictionary<string, string> BlobOfValue { get; } = new(StringComparer.Ordinal);

    /// <summary>Blob name → IR value holding its current version.</summary>
    public Dictionary<string, string> Current { get; } = new(StringComparer.Ordinal);

    /// <summary>Blobs produced and not read since (Caffe's net outputs are the ones left at the end).</summary>
    public List<string> Available { get; } = [];

    public HashSet<string> UsedNames { get; } = new(StringComparer.Ordinal);

    /// <summary>Parameter names shared through <c>param {{ name: … }}</c> → the initializer stored for them.</summary>
    public Dictionary<string, string> SharedParams { get; } = new(StringComparer.Ordinal);

    public bool FirstInput { get; set; } = true;

    /// <summary><paramref name="candidate"/>, or it with #2, #3 … when the name is taken.</summary>
    public string Unique(string candidate)
    {
        var name = candidate;
        for (var i = 2; UsedNames.Contains(name); i++)
        {
            name = string.Create(CultureInfo.InvariantCulture, $"{candidate}#{i}");
        }

        return name;
    }

    public string Suggest(string blob)
    {
        var close = Current.Keys.FirstOrDefault(k => string.Equals(k, blob, StringComparison.OrdinalIgnoreCase) || k.Replace('-', '_') == blob.Replace('-', '_'));
        return close is null ? string.Empty : $" (did you mean '{close}'?)";
    }
}
