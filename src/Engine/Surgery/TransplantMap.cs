using NeuralBuild.Engine.Diagnostics;

namespace NeuralBuild.Engine.Surgery;

/// <summary>
/// A <c>--map</c> file: which old layer each listed new layer takes its parameters from, one pair a
/// line, <c>NEW_LAYER OLD_LAYER</c>, separated by spaces or tabs; <c>#</c> starts a comment; blank
/// lines are skipped. Layers the map does not list pair by name.
/// </summary>
public sealed class TransplantMap
{
    private readonly Dictionary<string, (string Old, SourceLocation Where)> _pairs = new(StringComparer.Ordinal);

    public static TransplantMap Empty { get; } = new();

    /// <summary>The listed pairs with the line that states each.</summary>
    public IEnumerable<(string New, string Old, SourceLocation Where)> Pairs => _pairs.Select(p => (p.Key, p.Value.Old, p.Value.Where));

    /// <summary>The old layer <paramref name="newLayer"/> takes from: the map's pair, else the same name.</summary>
    public string OldLayerOf(string newLayer) => _pairs.TryGetValue(newLayer, out var pair) ? pair.Old : newLayer;

    public static TransplantMap Load(string path)
    {
        if (!File.Exists(path))
        {
            throw DiagnosticCodes.FileNotFound.Exception(new SourceLocation(path), $"transplant map '{path}' does not exist.");
        }

        return Parse(path, File.ReadAllText(path));
    }

    public static TransplantMap Parse(string path, string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var map = new TransplantMap();
        var lines = text.Split('\n');
        for (var i = 0; i < lines.Length; i++)
        {
            var line = lines[i].TrimEnd('\r');
            var hash = line.IndexOf('#', StringComparison.Ordinal);
            var content = hash >= 0 ? line[..hash] : line;
            var names = content.Split([' ', '\t'], StringSplitOptions.RemoveEmptyEntries);
            if (names.Length == 0)
            {
                continue;
            }

            var where = new SourceLocation(path, i + 1, content.Length - content.TrimStart().Length + 1);
            if (names.Length != 2)
            {
                throw DiagnosticCodes.TransplantMapMalformed.Exception(where,
                    $"'{content.Trim()}' names {names.Length} layer{(names.Length == 1 ? string.Empty : "s")}; a line of the map is 'NEW_LAYER OLD_LAYER' (a '#' starts a comment).");
            }

            if (map._pairs.TryGetValue(names[0], out var earlier))
            {
                throw DiagnosticCodes.TransplantMapDuplicate.Exception(where,
                    $"layer '{names[0]}' of the new model is already paired (line {earlier.Where.Line}); each new layer takes its parameters from one old layer.");
            }

            map._pairs[names[0]] = (names[1], where);
        }

        return map;
    }
}
