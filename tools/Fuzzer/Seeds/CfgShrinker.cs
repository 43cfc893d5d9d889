using System.Globalization;
using System.Text;

namespace NeuralBuild.Fuzzer.Seeds;

/// <summary>
/// Makes a corpus cfg cheap to fuzz while keeping its structure (every section, route and head):
/// batch 1, at most 128x128 input, a sixteenth of the filters, one class. The conv feeding a
/// detection head keeps the filter count that head needs. Weights shrink ~256x, so one input runs in
/// milliseconds.
/// </summary>
public static class CfgShrinker
{
    private const int Divisor = 16;

    public static string Shrink(string cfg)
    {
        ArgumentNullException.ThrowIfNull(cfg);
        var sections = new List<List<string>> { new() };
        foreach (var line in cfg.Split('\n'))
        {
            if (line.TrimStart().StartsWith('['))
            {
                sections.Add([]);
            }

            sections[^1].Add(line.TrimEnd('\r'));
        }

        for (var i = 0; i < sections.Count; i++)
        {
            var header = Header(sections[i]);
            var next = i + 1 < sections.Count ? Header(sections[i + 1]) : string.Empty;
            var headFilters = header == "convolutional" ? HeadFilters(next, i + 1 < sections.Count ? sections[i + 1] : []) : null;
            for (var j = 0; j < sections[i].Count; j++)
            {
                var (key, value) = Option(sections[i][j]);
                var replaced = key switch
                {
                    "batch" or "subdivisions" when header is "net" or "network" => "1",
                    "width" or "height" when header is "net" or "network" => Math.Min(128, Math.Max(32, Int(value) / 32 * 32)).ToString(CultureInfo.InvariantCulture),
                    "filters" when headFilters is not null => headFilters.Value.ToString(CultureInfo.InvariantCulture),
                    "groups" when header != "convolutional" => null,
                    "filters" or "output" or "groups" => Math.Max(1, Int(value) / Divisor).ToString(CultureInfo.InvariantCulture),
                    "classes" => "1",
                    _ => null,
                };
                if (replaced is not null)
                {
                    sections[i][j] = $"{key}={replaced}";
                }
            }
        }

        return string.Join('\n', sections.SelectMany(s => s));
    }

    /// <summary>The filters a detection head needs from the conv before it (with one class).</summary>
    private static int? HeadFilters(string head, List<string> section)
    {
        string? Value(string key) => section.Select(Option).Where(o => o.Key == key).Select(o => o.Value).FirstOrDefault();
        var masks = Value("mask") is { } mask ? mask.Split(',').Length : Int(Value("num") ?? "1");
        return head switch
        {
            "yolo" => (1 + 5) * masks,
            "Gaussian_yolo" => (1 + 9) * masks,
            "region" => Int(Value("num") ?? "5") * (1 + Int(Value("coords") ?? "4") + 1),
            _ => null,
        };
    }

    private static string Header(List<string> section) =>
        section.Count > 0 && section[0].TrimStart().StartsWith('[') ? section[0].Trim().Trim('[', ']') : string.Empty;

    private static (string Key, string Value) Option(string line)
    {
        var eq = line.IndexOf('=', StringComparison.Ordinal);
        return eq < 0 || line.TrimStart().StartsWith('#') ? (string.Empty, string.Empty) : (line[..eq].Trim(), line[(eq + 1)..].Trim());
    }

    private static int Int(string value) => int.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out var n) ? n : 1;

    internal static byte[] Utf8(string text) => Encoding.UTF8.GetBytes(text);
}
