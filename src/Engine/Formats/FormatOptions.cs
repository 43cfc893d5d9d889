using System.Globalization;
using NeuralBuild.Engine.Diagnostics;

namespace NeuralBuild.Engine.Formats;

/// <summary>One option a format takes: its name and what its values mean, for help text.</summary>
public sealed record FormatOptionInfo(string Name, string Description);

/// <summary>
/// Generic <c>name=value</c> format options: parsing the text the build and the tool take
/// (<c>dialect=pjreddie;x=y</c>), and the check every format makes of the names it is given.
/// </summary>
public static class FormatOptions
{
    public static IReadOnlyDictionary<string, string> None { get; } = new Dictionary<string, string>(StringComparer.Ordinal);

    /// <summary>Parses <c>name=value</c> pairs separated by <c>;</c> or given one per entry; names are case-insensitive and kept lower case.</summary>
    public static Dictionary<string, string> Parse(IEnumerable<string> pairs, SourceLocation where)
    {
        ArgumentNullException.ThrowIfNull(pairs);
        var options = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var pair in pairs.SelectMany(p => p.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)))
        {
            var equals = pair.IndexOf('=', StringComparison.Ordinal);
            if (equals <= 0 || equals == pair.Length - 1)
            {
                throw DiagnosticCodes.InvalidFormatOption.Exception(where, $"format option '{pair}' is not of the form name=value (for example dialect=pjreddie).");
            }

            var name = pair[..equals].Trim().ToLowerInvariant();
            var value = pair[(equals + 1)..].Trim();
            if (options.TryGetValue(name, out var earlier) && earlier != value)
            {
                throw DiagnosticCodes.InvalidFormatOption.Exception(where, $"format option '{name}' is given twice, as '{earlier}' and '{value}'.");
            }

            options[name] = value;
        }

        return options;
    }

    /// <summary>Refuses every name of <paramref name="given"/> that <paramref name="format"/> does not take.</summary>
    public static void RequireKnown(IModelFormat format, IReadOnlyDictionary<string, string> given, IReadOnlyCollection<string> known, SourceLocation where)
    {
        ArgumentNullException.ThrowIfNull(format);
        ArgumentNullException.ThrowIfNull(given);
        foreach (var name in given.Keys.Where(n => !known.Contains(n)))
        {
            var takes = known.Count == 0 ? "takes no format options" : string.Create(CultureInfo.InvariantCulture, $"takes only {string.Join(", ", known)}");
            throw DiagnosticCodes.InvalidFormatOption.Exception(where, $"format option '{name}' does not apply: a {format.Name} model {takes}.");
        }
    }
}
