using System.Globalization;
using System.Text;

namespace NeuralBuild.Engine.Reporting;

/// <summary>
/// Builds the report's markup. Every piece of text goes through <see cref="Escape(string?)"/>: layer names,
/// kinds and paths come from model files, which anyone can write. The output is well-formed XML as
/// well as HTML (no named entities but XML's five, no control characters), so the report can be
/// checked with an XML parser.
/// </summary>
internal sealed class Markup
{
    private readonly StringBuilder _text = new();

    /// <summary>Markup written by the report itself, never text from a model.</summary>
    public Markup Raw(string markup)
    {
        _text.Append(markup);
        return this;
    }

    /// <summary><paramref name="text"/> as character data, safe inside an element or a quoted attribute.</summary>
    public Markup Text(string? text)
    {
        Escape(text, _text);
        return this;
    }

    /// <summary>A whole element holding only text: <c>&lt;td class="n"&gt;text&lt;/td&gt;</c>.</summary>
    public Markup Element(string name, string? text, string? cssClass = null)
    {
        _text.Append('<').Append(name);
        if (cssClass is not null)
        {
            _text.Append(" class=\"").Append(cssClass).Append('"');
        }

        _text.Append('>');
        Escape(text, _text);
        _text.Append("</").Append(name).Append('>');
        return this;
    }

    /// <summary>A table row of text cells; cells from <paramref name="numericFrom"/> on are right-aligned figures.</summary>
    public Markup Row(IEnumerable<string?> cells, int numericFrom = int.MaxValue, string? cssClass = null)
    {
        _text.Append(cssClass is null ? "<tr>" : $"<tr class=\"{cssClass}\">");
        var i = 0;
        foreach (var cell in cells)
        {
            Element("td", cell, i++ >= numericFrom ? "n" : null);
        }

        _text.Append("</tr>\n");
        return this;
    }

    /// <summary>A table's header row.</summary>
    public Markup HeaderRow(params string[] cells)
    {
        _text.Append("<tr>");
        foreach (var cell in cells)
        {
            Element("th", cell);
        }

        _text.Append("</tr>\n");
        return this;
    }

    public override string ToString() => _text.ToString();

    public static string Escape(string? text)
    {
        var sb = new StringBuilder(text?.Length ?? 0);
        Escape(text, sb);
        return sb.ToString();
    }

    /// <summary>A coordinate or size for SVG: invariant culture, two decimals at most.</summary>
    public static string Number(double value) => Math.Round(value, 2).ToString("0.##", CultureInfo.InvariantCulture);

    private static void Escape(string? text, StringBuilder into)
    {
        if (text is null)
        {
            return;
        }

        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            switch (c)
            {
                case '<': into.Append("&lt;"); break;
                case '>': into.Append("&gt;"); break;
                case '&': into.Append("&amp;"); break;
                case '"': into.Append("&quot;"); break;
                case '\'': into.Append("&#39;"); break;
                case '\t' or '\n' or '\r': into.Append(c); break;
                case < ' ' or '\uFFFE' or '\uFFFF': into.Append('\uFFFD'); break; // not allowed in XML, not even as a reference
                default:
                    if (char.IsHighSurrogate(c) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]))
                    {
                        into.Append(c).Append(text[++i]);
                    }
                    else
                    {
                        into.Append(char.IsSurrogate(c) ? '\uFFFD' : c);
                    }

                    break;
            }
        }
    }
}
