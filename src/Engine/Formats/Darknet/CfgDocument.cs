using NeuralBuild.Engine.Diagnostics;

namespace NeuralBuild.Engine.Formats.Darknet;

/// <summary>
/// A Darknet .cfg as written: every line kept verbatim (so a writer can change one option and
/// leave comments, order and spacing alone), plus the sections and options parsed from it with
/// their line and column.
/// </summary>
public sealed class CfgDocument
{
    private CfgDocument(string path, List<string> lines, List<CfgSection> sections, string newLine, bool endsWithNewLine)
    {
        Path = path;
        Lines = lines;
        Sections = sections;
        NewLine = newLine;
        EndsWithNewLine = endsWithNewLine;
    }

    /// <summary>The file's line terminator ("\n" or "\r\n"), so a rewrite keeps it.</summary>
    public string NewLine { get; }

    public bool EndsWithNewLine { get; }

    public string Path { get; }

    /// <summary>The file's lines without their terminators, in order.</summary>
    public List<string> Lines { get; }

    public List<CfgSection> Sections { get; }

    public static CfgDocument Load(string path)
    {
        if (!File.Exists(path))
        {
            throw DiagnosticCodes.FileNotFound.Exception(new SourceLocation(path), $"Darknet cfg '{path}' does not exist.");
        }

        return Parse(path, File.ReadAllText(path));
    }

    /// <summary>
    /// Parses cfg text with darknet's rules: '#' and ';' start comment lines, '[type]' starts a
    /// section, everything else is key=value. Darknet strips all whitespace; so do we, but we keep
    /// the raw line. A trailing '#' comment after a value is dropped (darknet's atoi stops there).
    /// </summary>
    public static CfgDocument Parse(string path, string text)
    {
        var lines = SplitLines(text);
        var sections = new List<CfgSection>();
        CfgSection? current = null;
        for (var i = 0; i < lines.Count; i++)
        {
            var raw = lines[i];
            var lineNumber = i + 1;
            var trimmed = raw.Trim();
            if (trimmed.Length == 0 || trimmed[0] is '#' or ';')
            {
                continue;
            }

            var column = raw.IndexOf(trimmed[0], StringComparison.Ordinal) + 1;
            if (trimmed[0] == '[')
            {
                var close = trimmed.IndexOf(']', StringComparison.Ordinal);
                if (close < 0)
                {
                    throw DiagnosticCodes.CfgSyntax.Exception(new SourceLocation(path, lineNumber, column),
                        $"Section header '{trimmed}' has no closing ']'.");
                }

                var type = RemoveWhitespace(trimmed[1..close]);
                current = new CfgSection(type, new SourceLocation(path, lineNumber, column), i);
                sections.Add(current);
                continue;
            }

            var eq = raw.IndexOf('=', StringComparison.Ordinal);
            if (eq < 0)
            {
                throw DiagnosticCodes.CfgSyntax.Exception(new SourceLocation(path, lineNumber, column),
                    $"'{trimmed}' is neither a [section] header nor an option of the form key=value.");
            }

            if (current is null)
            {
                throw DiagnosticCodes.CfgMissingNet.Exception(new SourceLocation(path, lineNumber, column),
                    $"Option '{trimmed}' comes before any section; a Darknet cfg starts with [net].");
            }

            var key = RemoveWhitespace(raw[..eq]);
            var valueText = raw[(eq + 1)..];
            var hash = valueText.IndexOf('#', StringComparison.Ordinal);
            if (hash >= 0)
            {
                valueText = valueText[..hash];
            }

            var valueColumn = eq + 2 + (valueText.Length - valueText.TrimStart().Length);
            current.Add(new CfgOption(key, RemoveWhitespace(valueText), new SourceLocation(path, lineNumber, valueColumn), i));
        }

        var newLine = text.Contains("\r\n", StringComparison.Ordinal) ? "\r\n" : "\n";
        return new CfgDocument(path, lines, sections, newLine, text.EndsWith('\n'));
    }

    private static List<string> SplitLines(string text)
    {
        var lines = new List<string>(text.Split('\n'));
        for (var i = 0; i < lines.Count; i++)
        {
            if (lines[i].EndsWith('\r'))
            {
                lines[i] = lines[i][..^1];
            }
        }

        // A final newline does not start another line.
        if (lines.Count > 0 && lines[^1].Length == 0)
        {
            lines.RemoveAt(lines.Count - 1);
        }

        return lines;
    }

    private static string RemoveWhitespace(string s) =>
        string.Create(s.Count(c => !char.IsWhiteSpace(c)), s, static (span, src) =>
        {
            var j = 0;
            foreach (var c in src)
            {
                if (!char.IsWhiteSpace(c))
                {
                    span[j++] = c;
                }
            }
        });
}
