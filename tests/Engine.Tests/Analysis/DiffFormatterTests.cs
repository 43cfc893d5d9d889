using System.Text.RegularExpressions;
using NeuralBuild.Engine.Analysis;
using NeuralBuild.Engine.Diagnostics;

namespace NeuralBuild.Engine.Tests.Analysis;

/// <summary>The diff's text formats on a hand-made pair of reports.</summary>
[TestClass]
public sealed partial class DiffFormatterTests
{
    private static ModelDiff Diff()
    {
        static LayerReport Layer(int index, string kind, string name, long macc, string shape) =>
            new(index, kind, name, SourceLocation.None, shape, [kind], new CostFigures { Macc = macc });
        static ModelReport Report(string path, params LayerReport[] layers) =>
            new(path, "test", "1x3x8x8", CountingConvention.Default, layers, layers.Aggregate(new CostFigures(), (s, l) => s + l.Cost), 0, 0);

        return ModelDiff.Compare(
            Report("a<1>.cfg", Layer(0, "conv", "c1", 1000, "1x4x8x8"), Layer(1, "bn", "b1", 0, "1x4x8x8")),
            Report("b.cfg", Layer(0, "conv", "c1", 1500, "1x4x9x9"), Layer(1, "pool", "p1", 0, "1x4x4x4")));
    }

    [TestMethod]
    public void Html_is_one_self_contained_page_with_a_row_per_layer_and_per_total()
    {
        var html = DiffFormatter.Format(Diff(), "html");

        Assert.StartsWith("<!DOCTYPE html>", html);
        Assert.DoesNotContain("http", html, "nothing is fetched");
        Assert.DoesNotContain("<script", html);
        Assert.Contains("a&lt;1&gt;.cfg", html, "text is escaped");
        // 3 layer rows (c1 changed, b1 removed, p1 added) and 8 totals, each table with a header row.
        Assert.AreEqual(3 + 1 + 8 + 1, TableRow().Count(html));
        Assert.Contains("<tr class=\"removed\">", html);
        Assert.Contains("<tr class=\"added\">", html);
        Assert.Contains("<td class=\"n\">+500</td>", html);
    }

    [TestMethod]
    public void Table_and_markdown_show_the_same_rows()
    {
        var table = DiffFormatter.Format(Diff(), "table");
        var markdown = DiffFormatter.Format(Diff(), "md");

        foreach (var text in new[] { table, markdown })
        {
            Assert.Contains("1x4x8x8 -> 1x4x9x9", text);
            Assert.Contains("+500", text);
            Assert.Contains("3 rows: 1 changed, 0 same, 1 added, 1 removed", text);
            Assert.Contains("+50%", text, "total MACC 1000 -> 1500");
        }
    }

    [GeneratedRegex("<tr[ >]")]
    private static partial Regex TableRow();
}
