using System.Globalization;
using System.Numerics;
using NeuralBuild.Engine.Diagnostics;
using NeuralBuild.Engine.Ir;

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
        // A loop rather than FirstOrDefault: options are looked up for every layer of every read, and a
        // capturing lambda per lookup was a measurable share of reading a corpus (bench/README).
        foreach (var option in _options)
        {
            if (option.Key == key)
            {
                return option;
            }
        }

        return null;
    }

    public bool Has(string key) => Find(key) is not null;

    public string String(string key, string fallback) => Find(key)?.Value ?? fallback;

    /// <summary>An integer option darknet only compares with 0 (pad, batch_normalize, reverse): any 64-bit value.</summary>
    public long Int(string key, long fallback)
    {
        var option = Find(key);
        return option is null ? fallback : ParseInteger(option, option.Value, "an integer");
    }

    /// <summary>An integer option that must lie in [<paramref name="min"/>, <paramref name="max"/>], refused at its value otherwise.</summary>
    public long Int(string key, long fallback, long min, long max)
    {
        var value = Int(key, fallback);
        return value >= min && value <= max
            ? value
            : throw DiagnosticCodes.CfgInvalidValue.Exception(Find(key)?.Location ?? Location, $"[{Type}] {key}={value} {RangeRule(value, min, max)}.");
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

    /// <summary>A positive size, stride or count, at most <see cref="ModelLimits.MaxExtent"/>.</summary>
    public long Positive(string key, long fallback) => Int(key, fallback, 1, ModelLimits.MaxExtent);

    /// <summary>A padding or other size that may be 0, at most <see cref="ModelLimits.MaxExtent"/>.</summary>
    public long NonNegative(string key, long fallback) => Int(key, fallback, 0, ModelLimits.MaxExtent);

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
            values[i] = ParseInteger(option, parts[i], "a comma-separated list of integers");
        }

        return values.Length > 0 ? values : throw NotNumeric(option, "a comma-separated list of integers");
    }

    private long ParseInteger(CfgOption option, string text, string what)
    {
        if (long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var value))
        {
            return value;
        }

        // All digits but beyond 64 bits: a number, out of any range NeuralBuild accepts.
        return BigInteger.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out _)
            ? throw DiagnosticCodes.CfgInvalidValue.Exception(option.Location, $"[{Type}] {option.Key}={option.Value}: {text} does not fit a 64-bit integer.")
            : throw NotNumeric(option, what);
    }

    private static string RangeRule(long value, long min, long max) => value switch
    {
        _ when value > max && max == ModelLimits.MaxExtent => $"is too large: {ModelLimits.ExtentLimitReason}",
        _ when value < min && min == 1 => "must be a positive integer",
        _ when value < min && min == 0 => "must not be negative",
        _ => string.Create(CultureInfo.InvariantCulture, $"must lie between {min} and {max:N0}"),
    };

    private NeuralException NotNumeric(CfgOption option, string what) =>
        DiagnosticCodes.CfgNotNumeric.Exception(option.Location, $"[{Type}] {option.Key}={option.Value} is not {what}.");
}

/// <summary>One key=value line; <see cref="Location"/> points at the value.</summary>
public sealed record CfgOption(string Key, string Value, SourceLocation Location, int LineIndex);
