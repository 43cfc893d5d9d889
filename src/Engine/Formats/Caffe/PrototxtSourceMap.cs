using Google.Protobuf;
using NeuralBuild.Engine.Diagnostics;

namespace NeuralBuild.Engine.Formats.Caffe;

/// <summary>
/// Where each parsed message and field value stood in the prototxt. Generated protobuf messages
/// carry no positions, so the reader records them here, keyed by message instance (reference
/// identity: two equal layers are still two places). Diagnostics about a layer, a bottom or a
/// parameter use it to name the exact line and column.
/// </summary>
public sealed class PrototxtSourceMap
{
    private readonly Dictionary<IMessage, Entry> _entries = new(ReferenceEqualityComparer.Instance);

    internal PrototxtSourceMap(string path) => File = new SourceLocation(path);

    /// <summary>The file itself (no line): the fallback for messages that were not parsed from text.</summary>
    public SourceLocation File { get; }

    /// <summary>Where the field that holds <paramref name="message"/> was named (<c>layer {</c>).</summary>
    public SourceLocation Of(IMessage? message) =>
        message is not null && _entries.TryGetValue(message, out var entry) ? entry.Start : File;

    /// <summary>
    /// Where value <paramref name="index"/> of field <paramref name="fieldNumber"/> of
    /// <paramref name="message"/> was written: the value token for scalars, the field name for
    /// messages. Falls back to the message's own location.
    /// </summary>
    public SourceLocation Of(IMessage? message, int fieldNumber, int index = 0)
    {
        if (message is null || !_entries.TryGetValue(message, out var entry))
        {
            return File;
        }

        return entry.Fields.TryGetValue(fieldNumber, out var list) && list.Count > 0
            ? list[Math.Clamp(index, 0, list.Count - 1)]
            : entry.Start;
    }

    /// <summary>As <see cref="Of(IMessage?, int, int)"/> with the field named as in the .proto.</summary>
    public SourceLocation Of(IMessage? message, string fieldName, int index = 0) =>
        message?.Descriptor.FindFieldByName(fieldName) is { } field ? Of(message, field.FieldNumber, index) : Of(message);

    /// <summary>True when the field was written in the text (for fields without presence tracking).</summary>
    public bool Written(IMessage? message, int fieldNumber) =>
        message is not null && _entries.TryGetValue(message, out var entry) && entry.Fields.ContainsKey(fieldNumber);

    internal void Begin(IMessage message, SourceLocation start) => _entries[message] = new Entry(start);

    internal void Add(IMessage message, int fieldNumber, SourceLocation location)
    {
        var entry = _entries[message];
        if (!entry.Fields.TryGetValue(fieldNumber, out var list))
        {
            entry.Fields[fieldNumber] = list = [];
        }

        list.Add(location);
    }

    private sealed class Entry(SourceLocation start)
    {
        public SourceLocation Start { get; } = start;

        public Dictionary<int, List<SourceLocation>> Fields { get; } = [];
    }
}
