using System.Globalization;
using NeuralBuild.Engine.Diagnostics;

namespace NeuralBuild.Engine.Formats.Darknet;

/// <summary>One [section] of a cfg with typed, located access to its options.</summary>
public sealed class CfgSection(string type, SourceLocation location, int headerLineIndex)
{
    private readonly List<CfgOption> _options = [];
    private readonly HashSet<string> _read = new(StringComparer.Ordinal);

    /// <summary>The text between the brackets, e.g. "convolutional".</summary>
    public string Type { get; } = type;

    public SourceLocation Location { get; } = location;

    /// <summary>0-based index of the header line in <see cref="CfgDocument.Lines"/>.</summary>
    public int HeaderLineIndex { get; } = headerLineIndex;

    public IReadOnlyList<CfgOption> Options => _options;

    /// <summary>Options no reader asked for: candidates for a "has no effect" warning.</summary>
    public IEnumerable<CfgOption> UnreadOptions => _options.Where(o => !_read.Contains(o.Key));

    internal void Add(CfgOption option) => _options.Add(option);

    /// <summary>Darknet returns the first occurrence of a key; so do we.</summary>
    public CfgOption? Find(string key)
    {
        _read.Add(key);
        return _options.FirstOrDefault(o => o.Key == key);
    }

    public bool Has(string key) => Find(key) is not null;

    public string String(string key, string fallback) => Find(key)?.Value ?? fallback;

    public long Int(string key, long fallback)
    {
        var option = Find(key);
        if (option is null)
        {
            return fallback;
        }

        return long.TryParse(option.Value, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var value)
            ? value
            : throw NotNumeric(option, "an integer");
    }

    public double Float(string key, double fallback)
    {
        var option = Find(key);
        if (option is null)
        {
            return fallback;
        }

        return double.TryParse(option.Value, NumberStyles.Float, CultureInfo.InvariantCulture, out var value) && double.IsFinite(value)
            ? value
            : throw NotNumeric(option, "a number");
    }

    /// <summary>A positive integer option (sizes, strides, filters).</summary>
    public long Positive(string key, long fallback)
    {
        var value = Int(key, fallback);
        return value > 0
            ? value
            : throw DiagnosticCodes.CfgInvalidValue.Exception(Find(key)?.Location ?? Location,
                $"[{Type}] {key}={value} must be a positive integer.");
    }

    public long NonNegative(string key, long fallback)
    {
        var value = Int(key, fallback);
        return value >= 0
            ? value
            : throw DiagnosticCodes.CfgInvalidValue.Exception(Find(key)?.Location ?? Location,
                $"[{Type}] {key}={value} must not be negative.");
    }

    /// <summary>A comma-separated list of integers (route layers, yolo mask).</summary>
    public long[]? IntList(string key)
    {
        var option = Find(key);
        if (option is null)
        {
            return null;
        }

        var parts = option.Value.Split(',', StringSplitOptions.RemoveEmptyEntries);
        var values = new long[parts.Length];
        for (var i = 0; i < parts.Length; i++)
        {
            if (!long.TryParse(parts[i], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out values[i]))
            {
                throw NotNumeric(option, "a comma-separated list of integers");
            }
        }

        return values.Length > 0 ? values : throw NotNumeric(option, "a comma-separated list of integers");
    }

    private NeuralException NotNumeric(CfgOption option, string what) =>
        DiagnosticCodes.CfgNotNumeric.Exception(option.Location, $"[{Type}] {option.Key}={option.Value} is not {what}.");
}

/// <summary>One key=value line; <see cref="Location"/> points at the value.</summary>
public sealed record CfgOption(string Key, string Value, SourceLocation Location, int LineIndex);
