using System.Globalization;
using NeuralBuild.Engine.Diagnostics;
using NeuralBuild.Engine.Ir;

namespace NeuralBuild.Engine.Passes.Surgery;

/// <summary>
/// Edits a person asks for (issue 15): keep some classes, cut the model at chosen outputs, rename
/// layers. Unlike the folds they change what the model computes on purpose, so they run once,
/// before the folds, in this order (a cut first, so classes are kept only in heads that remain;
/// renames last, so every other edit names the layers as the file does).
/// </summary>
public sealed record ModelSurgery
{
    /// <summary>Class indices to keep, ascending and distinct; null: all.</summary>
    public IReadOnlyList<long>? KeepClasses { get; init; }

    /// <summary>Values, nodes or layers that become the outputs; null: the model's own.</summary>
    public IReadOnlyList<string>? Outputs { get; init; }

    /// <summary>The layer after which everything is removed; null: none.</summary>
    public string? RemoveAfter { get; init; }

    public IReadOnlyList<(string From, string To)> Renames { get; init; } = [];

    public bool IsEmpty => KeepClasses is null && Outputs is null && RemoveAfter is null && Renames.Count == 0;

    /// <summary>
    /// Class indices from <c>0,1,2</c> (commas or semicolons, spaces allowed): sorted, each once.
    /// Anything else is NM0360.
    /// </summary>
    public static IReadOnlyList<long> ParseClasses(string text, SourceLocation where)
    {
        ArgumentNullException.ThrowIfNull(text);
        var parts = text.Split([',', ';'], StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        var classes = new SortedSet<long>();
        foreach (var part in parts)
        {
            if (!long.TryParse(part, NumberStyles.None, CultureInfo.InvariantCulture, out var index) || !classes.Add(index))
            {
                throw DiagnosticCodes.InvalidClassSelection.Exception(where,
                    $"classes '{text}': '{part}' is {(classes.Contains(index) && long.TryParse(part, NumberStyles.None, CultureInfo.InvariantCulture, out _) ? "given twice" : "not a class index (0, 1, 2, …)")}; give class indices separated by commas, such as 0,1,2.");
            }
        }

        return classes.Count > 0
            ? [.. classes]
            : throw DiagnosticCodes.InvalidClassSelection.Exception(where, "no class to keep: give class indices separated by commas, such as 0,1,2.");
    }

    /// <summary>
    /// The indices of the names listed in <paramref name="keepPath"/> (one a line, blank lines
    /// skipped) within the model's names <paramref name="namesPath"/> (line n is class n, as darknet's
    /// <c>coco.names</c>). A name not in the model's list is NM0363 at its line.
    /// </summary>
    public static IReadOnlyList<long> ClassesByName(string namesPath, string keepPath)
    {
        var names = File.ReadAllLines(namesPath);
        var index = new Dictionary<string, long>(StringComparer.Ordinal);
        for (var i = 0; i < names.Length; i++)
        {
            index.TryAdd(names[i].Trim(), i);
        }

        var keep = File.ReadAllLines(keepPath);
        var classes = new SortedSet<long>();
        for (var line = 0; line < keep.Length; line++)
        {
            var name = keep[line].Trim();
            if (name.Length == 0)
            {
                continue;
            }

            if (!index.TryGetValue(name, out var found))
            {
                throw DiagnosticCodes.UnknownClassName.Exception(new SourceLocation(keepPath, line + 1, keep[line].IndexOf(name, StringComparison.Ordinal) + 1),
                    $"class '{name}' is not in '{Path.GetFileName(namesPath)}', the model's {names.Length} class names.");
            }

            classes.Add(found);
        }

        return classes.Count > 0
            ? [.. classes]
            : throw DiagnosticCodes.InvalidClassSelection.Exception(new SourceLocation(keepPath), "the file names no class to keep.");
    }

    /// <summary><c>old=new</c> pairs; NM0366 for one without '=' or with an empty side.</summary>
    public static IReadOnlyList<(string From, string To)> ParseRenames(IEnumerable<string> pairs, SourceLocation where)
    {
        ArgumentNullException.ThrowIfNull(pairs);
        var result = new List<(string, string)>();
        foreach (var pair in pairs)
        {
            var eq = pair.IndexOf('=', StringComparison.Ordinal);
            if (eq <= 0 || eq == pair.Length - 1)
            {
                throw DiagnosticCodes.InvalidEdit.Exception(where, $"rename '{pair}': write old=new, such as conv1=stem.");
            }

            result.Add((pair[..eq], pair[(eq + 1)..]));
        }

        return result;
    }

    /// <summary>Applies the edits to <paramref name="graph"/> in place; what to compare with the original comes back with the report.</summary>
    public SurgeryResult Apply(Graph graph, WriterContract writer, SourceLocation where)
    {
        ArgumentNullException.ThrowIfNull(graph);
        var report = new PassReport();
        if (Outputs is not null && RemoveAfter is not null)
        {
            throw DiagnosticCodes.InvalidEdit.Exception(where, "give the new outputs or the layer to remove after, not both.");
        }

        void Run(GraphPass pass)
        {
            var editor = new GraphEditor(graph, writer);
            pass.Run(editor, report);
            editor.EndPass();
        }

        if (Outputs is not null || RemoveAfter is not null)
        {
            Run(new ChooseOutputs(Outputs, RemoveAfter, where));
        }

        var selections = new List<ValueSelection>();
        if (KeepClasses is not null)
        {
            var keep = new KeepClasses(KeepClasses, where);
            Run(keep);
            selections.AddRange(keep.Selections);
        }

        var renamed = new Dictionary<string, string>(StringComparer.Ordinal);
        if (Renames.Count > 0)
        {
            var rename = new RenameLayers(Renames, where);
            Run(rename);
            foreach (var (to, from) in rename.RenamedValues)
            {
                renamed[to] = from;
            }

            foreach (var (i, selection) in selections.Index().ToList())
            {
                if (rename.RenamedValues.FirstOrDefault(r => r.Value == selection.Value).Key is { } newName)
                {
                    selections[i] = selection with { Value = newName };
                }
            }
        }

        return new SurgeryResult(report, selections, renamed);
    }
}

/// <summary>
/// What a surgery did: its pass report, the values whose kept channels equal the original's
/// (<see cref="Selections"/>, by their new names) and the renamed values (new name → old).
/// </summary>
public sealed record SurgeryResult(PassReport Report, IReadOnlyList<ValueSelection> Selections, IReadOnlyDictionary<string, string> Renamed)
{
    /// <summary>The name a value of the edited model had in the original.</summary>
    public string OriginalName(string value) => Renamed.GetValueOrDefault(value, value);
}
