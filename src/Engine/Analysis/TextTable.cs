using System.Text;

namespace NeuralBuild.Engine.Analysis;

/// <summary>Rows of cells as an aligned console table or a Markdown table, for the report formatters.</summary>
internal static class TextTable
{
    public static void Write(StringBuilder sb, bool markdown, string[] columns, List<string[]> rows, Func<int, bool> rightAligned)
    {
        if (markdown)
        {
            Markdown(sb, columns, rows, rightAligned);
        }
        else
        {
            Aligned(sb, columns, rows, rightAligned);
        }
    }

    public static void Aligned(StringBuilder sb, string[] columns, List<string[]> rows, Func<int, bool> rightAligned)
    {
        var widths = columns.Select((c, i) => Math.Max(c.Length, rows.Count == 0 ? 0 : rows.Max(r => r[i].Length))).ToArray();
        void Line(string[] cells) =>
            sb.Append(string.Join("  ", cells.Select((c, i) => rightAligned(i) ? c.PadLeft(widths[i]) : c.PadRight(widths[i]))).TrimEnd()).Append('\n');
        Line(columns);
        sb.Append(string.Join("  ", widths.Select(w => new string('-', w)))).Append('\n');
        rows.ForEach(Line);
    }

    public static void Markdown(StringBuilder sb, string[] columns, List<string[]> rows, Func<int, bool> rightAligned)
    {
        sb.Append("| ").Append(string.Join(" | ", columns)).Append(" |\n|");
        sb.Append(string.Concat(columns.Select((_, i) => rightAligned(i) ? "---:|" : "---|"))).Append('\n');
        foreach (var row in rows)
        {
            sb.Append("| ").Append(string.Join(" | ", row.Select(c => c.Replace("|", "\\|", StringComparison.Ordinal)))).Append(" |\n");
        }
    }
}
