using System.Globalization;
using System.Text;

namespace NeuralBuild.Fuzzer.Mutation;

/// <summary>Damage a Darknet .cfg the way people and tools do: odd values, sections moved or lost, references to nothing.</summary>
public static class CfgMutations
{
    public static IReadOnlyList<FileMutation> All { get; } =
        [ExtremeOption, ExtremeOption, ExtremeOption, AddOption, SwapSections, DuplicateSection, RemoveSection, RenameSection, DanglingReference, DanglingReference, ByteMutations.BinaryGarbage];

    private static readonly string[] Keys =
    [
        "filters", "size", "stride", "stride_x", "stride_y", "pad", "padding", "groups", "dilation", "batch_normalize", "layers", "from",
        "classes", "num", "mask", "anchors", "width", "height", "channels", "batch", "subdivisions", "output", "coords", "reverse",
        "activation", "scale_x_y", "antialiasing", "share_index", "groups_id", "out_w", "out_h", "out_c", "flipped", "binary",
    ];

    private static readonly string[] SectionNames =
    [
        "net", "convolutional", "maxpool", "avgpool", "route", "shortcut", "upsample", "yolo", "region", "connected", "softmax",
        "reorg", "dropout", "local", "crop", "cost", "sam", "scale_channels", "detection", "Gaussian_yolo", "lstm", "", "no_such_layer",
    ];

    public static Mutated ExtremeOption(byte[] bytes, Rng rng)
    {
        var lines = Lines(bytes);
        var options = Enumerable.Range(0, lines.Count).Where(i => lines[i].Contains('=', StringComparison.Ordinal) && !lines[i].TrimStart().StartsWith('#')).ToList();
        if (options.Count == 0)
        {
            return AddOption(bytes, rng);
        }

        var index = rng.Pick(options);
        var key = lines[index][..lines[index].IndexOf('=', StringComparison.Ordinal)].Trim();
        var value = lines[index][(lines[index].IndexOf('=', StringComparison.Ordinal) + 1)..];
        var parts = value.Split(',');
        string replaced;
        if (parts.Length > 1 && rng.Chance(0.6))
        {
            // One element of a list (layers=-1,-4 / mask=3,4,5 / anchors=...).
            parts[rng.Below(parts.Length)] = rng.Pick(TextValues.ExtremeNumbers);
            replaced = string.Join(',', parts);
        }
        else
        {
            replaced = rng.Pick(TextValues.ExtremeNumbers);
        }

        lines[index] = $"{key}={replaced}";
        return new Mutated(Join(lines), $"line {index + 1}: {key}={value.Trim()} -> {key}={replaced}");
    }

    public static Mutated AddOption(byte[] bytes, Rng rng)
    {
        var lines = Lines(bytes);
        var at = rng.Below(lines.Count + 1);
        var option = $"{rng.Pick(Keys)}={rng.Pick(TextValues.ExtremeNumbers)}";
        lines.Insert(at, option);
        return new Mutated(Join(lines), $"'{option}' inserted at line {at + 1}");
    }

    public static Mutated SwapSections(byte[] bytes, Rng rng)
    {
        var sections = Sections(bytes);
        if (sections.Count < 2)
        {
            return ExtremeOption(bytes, rng);
        }

        var (a, b) = (rng.Below(sections.Count), rng.Below(sections.Count));
        (sections[a], sections[b]) = (sections[b], sections[a]);
        return new Mutated(Join(sections.SelectMany(s => s)), $"sections {a} and {b} swapped");
    }

    public static Mutated DuplicateSection(byte[] bytes, Rng rng)
    {
        var sections = Sections(bytes);
        var index = rng.Below(sections.Count);
        var copies = rng.Chance(0.9) ? 1 : rng.Between(2, 200);
        for (var i = 0; i < copies; i++)
        {
            sections.Insert(index, [.. sections[index]]);
        }

        return new Mutated(Join(sections.SelectMany(s => s)), $"section {index} duplicated {copies} time(s)");
    }

    public static Mutated RemoveSection(byte[] bytes, Rng rng)
    {
        var sections = Sections(bytes);
        var index = rng.Below(sections.Count);
        sections.RemoveAt(index);
        return new Mutated(Join(sections.SelectMany(s => s)), $"section {index} removed");
    }

    public static Mutated RenameSection(byte[] bytes, Rng rng)
    {
        var lines = Lines(bytes);
        var headers = Enumerable.Range(0, lines.Count).Where(i => lines[i].TrimStart().StartsWith('[')).ToList();
        if (headers.Count == 0)
        {
            return AddOption(bytes, rng);
        }

        var index = rng.Pick(headers);
        var before = lines[index];
        lines[index] = rng.Chance(0.15) ? $"[{rng.Pick(SectionNames)}" : $"[{rng.Pick(SectionNames)}]";
        return new Mutated(Join(lines), $"line {index + 1}: {before.Trim()} -> {lines[index]}");
    }

    /// <summary>A route's <c>layers=</c> or a shortcut's <c>from=</c> pointed at itself, ahead, or before the first layer.</summary>
    public static Mutated DanglingReference(byte[] bytes, Rng rng)
    {
        var lines = Lines(bytes);
        var references = Enumerable.Range(0, lines.Count)
            .Where(i => lines[i].TrimStart().StartsWith("layers", StringComparison.Ordinal) || lines[i].TrimStart().StartsWith("from", StringComparison.Ordinal))
            .ToList();
        if (references.Count == 0)
        {
            return ExtremeOption(bytes, rng);
        }

        var index = rng.Pick(references);
        var key = lines[index][..lines[index].IndexOf('=', StringComparison.Ordinal)].Trim();
        var layerIndex = lines.Take(index).Count(l => l.TrimStart().StartsWith('[')) - 2; // [net] is not a layer
        var target = rng.Below(5) switch
        {
            0 => "0",                                                             // relative 0: itself
            1 => (layerIndex + rng.Between(0, 3)).ToString(CultureInfo.InvariantCulture), // itself or a later layer
            2 => rng.Between(1, 4).ToString(CultureInfo.InvariantCulture),        // a positive small index
            3 => (-(layerIndex + rng.Between(2, 1000))).ToString(CultureInfo.InvariantCulture), // before the first layer
            _ => "1000000",
        };
        var before = lines[index];
        lines[index] = rng.Chance(0.5) || !before.Contains(',', StringComparison.Ordinal) ? $"{key}={target}" : $"{before},{target}";
        return new Mutated(Join(lines), $"line {index + 1}: {before.Trim()} -> {lines[index]}");
    }

    private static List<string> Lines(byte[] bytes) => [.. Encoding.UTF8.GetString(bytes).Split('\n')];

    private static byte[] Join(IEnumerable<string> lines) => Encoding.UTF8.GetBytes(string.Join('\n', lines));

    /// <summary>The text split before every section header (the part before the first one is its own chunk).</summary>
    private static List<List<string>> Sections(byte[] bytes)
    {
        var sections = new List<List<string>> { new() };
        foreach (var line in Lines(bytes))
        {
            if (line.TrimStart().StartsWith('['))
            {
                sections.Add([]);
            }

            sections[^1].Add(line);
        }

        return sections;
    }
}
