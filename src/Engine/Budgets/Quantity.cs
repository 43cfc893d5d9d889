using System.Globalization;

namespace NeuralBuild.Engine.Budgets;

/// <summary>
/// The quantity grammar of budgets: a non-negative decimal number, optionally a space, an optional
/// SI prefix (<c>k K M G T</c>: powers of 1000) or IEC prefix (<c>Ki Mi Gi Ti</c>: powers of 1024),
/// then for byte budgets a mandatory capital <c>B</c> and for counts an optional unit word
/// (<c>MAC</c>/<c>MACC</c> for MACC). The value must be a whole number once scaled: it is parsed
/// as <see cref="decimal"/> and stored as <see cref="long"/>, never through floating point.
/// Spellings that are commonly meant differently (<c>mb</c>, <c>Mb</c>, a bare <c>m</c>) are
/// rejected with the spelling to use instead.
/// </summary>
public static class Quantity
{
    private static readonly (string Prefix, long Factor)[] s_prefixes =
    [
        ("Ki", 1L << 10), ("Mi", 1L << 20), ("Gi", 1L << 30), ("Ti", 1L << 40),
        ("k", 1_000L), ("K", 1_000L), ("M", 1_000_000L), ("G", 1_000_000_000L), ("T", 1_000_000_000_000L),
    ];

    /// <summary>Parses <paramref name="text"/>; on failure <paramref name="error"/> says why and what to write.</summary>
    public static bool TryParse(string? text, BudgetMetric metric, out long value, out string error) =>
        TryParse(text, metric, allowPercent: false, out value, out _, out error);

    /// <summary>
    /// Shared by budgets and regression limits: with <paramref name="allowPercent"/> a trailing
    /// <c>%</c> is accepted and the number is returned in <paramref name="percent"/> instead.
    /// </summary>
    internal static bool TryParse(string? text, BudgetMetric metric, bool allowPercent, out long value, out decimal? percent, out string error)
    {
        value = 0;
        percent = null;
        error = string.Empty;
        var s = (text ?? string.Empty).Trim();
        if (s.Length == 0)
        {
            error = $"the value is empty; write a number such as {Example(metric)}";
            return false;
        }

        if (s[0] == '-')
        {
            error = $"'{s}' is negative; budgets are upper limits and must be 0 or more, e.g. {Example(metric)}";
            return false;
        }

        var numberEnd = 0;
        while (numberEnd < s.Length && (char.IsAsciiDigit(s[numberEnd]) || s[numberEnd] == '.'))
        {
            numberEnd++;
        }

        if (numberEnd == 0 || !decimal.TryParse(s[..numberEnd], NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var number))
        {
            error = $"'{s}' does not start with a number; write e.g. {Example(metric)}";
            return false;
        }

        var unit = s[numberEnd..].TrimStart();
        if (unit.Contains('%', StringComparison.Ordinal))
        {
            if (!allowPercent)
            {
                error = $"'{s}' is a percentage, which only means something relative to a baseline: use Max{metric.Setting}Increase=\"+{s[..numberEnd]}%\" for a regression limit, or an absolute value such as {Example(metric)}";
                return false;
            }

            if (unit != "%")
            {
                error = $"'{s}' has text around the '%'; write e.g. +2%";
                return false;
            }

            percent = number;
            return true;
        }

        if (!TrySplitUnit(unit, metric, out var factor, out error))
        {
            error = $"'{s}': {error}";
            return false;
        }

        var scaled = number * factor;
        if (scaled > long.MaxValue)
        {
            error = $"'{s}' is too large (more than {long.MaxValue:N0})";
            return false;
        }

        if (scaled != decimal.Truncate(scaled))
        {
            error = $"'{s}' is {scaled.ToString(CultureInfo.InvariantCulture)}, not a whole number of {(metric.Kind == QuantityKind.Bytes ? "bytes" : "units")}";
            return false;
        }

        value = (long)scaled;
        return true;
    }

    private static bool TrySplitUnit(string unit, BudgetMetric metric, out long factor, out string error)
    {
        factor = 1;
        error = string.Empty;
        var rest = unit;
        foreach (var (prefix, f) in s_prefixes)
        {
            if (rest.StartsWith(prefix, StringComparison.Ordinal))
            {
                factor = f;
                rest = rest[prefix.Length..];
                break;
            }
        }

        if (metric.Kind == QuantityKind.Bytes)
        {
            if (rest == "B")
            {
                return true;
            }

            error = unit switch
            {
                "mb" or "mB" or "m" => "'m' is milli; write MB (10^6 bytes) or MiB (2^20 bytes)",
                "Mb" or "Kb" or "kb" or "Gb" or "gb" or "Tb" or "Mib" or "Kib" or "Gib" => $"a lower-case 'b' means bits; write {unit[..^1].ToUpperInvariant().Replace("I", "i", StringComparison.Ordinal)}B for bytes",
                "" => "byte budgets need a unit ending in a capital B, e.g. 24MiB, 25MB or 4096B",
                _ when rest.Length == 0 => $"byte budgets need a capital B after the prefix, e.g. {unit}B",
                _ => $"'{unit}' is not a byte unit; use B, kB, KB, MB, GB, TB (powers of 1000) or KiB, MiB, GiB, TiB (powers of 1024)",
            };
            return false;
        }

        if (rest.Length == 0 || (metric == BudgetMetric.Macc && rest is "MAC" or "MACC" or "MACs") || (metric.Unit.Length > 0 && rest == metric.Unit))
        {
            return true;
        }

        error = rest switch
        {
            _ when unit is "m" or "mMAC" or "mMACC" => "'m' is milli; write M for millions, e.g. 6500M",
            _ when unit.EndsWith('B') || unit.EndsWith('b') => $"{metric.MaxSetting} counts {metric.Label}, not bytes; drop the B, e.g. {Example(metric)}",
            _ when unit.Length > 0 && "gt".Contains(unit[0], StringComparison.Ordinal) => $"write the prefix in capitals, e.g. {unit[..1].ToUpperInvariant()}{unit[1..]}",
            _ => $"'{unit}' is not a unit NeuralBuild knows; use k, K, M, G or T{(metric == BudgetMetric.Macc ? ", optionally followed by MAC" : string.Empty)}, e.g. {Example(metric)}",
        };
        return false;
    }

    /// <summary>A correct spelling for messages.</summary>
    public static string Example(BudgetMetric metric) => metric.Kind == QuantityKind.Bytes ? "24MiB or 25MB" : metric == BudgetMetric.Macc ? "6.5G, 6500M or 6.5 GMAC" : "8.5M";
}
