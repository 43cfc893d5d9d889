using System.Globalization;
using System.Text.RegularExpressions;
using System.Xml;
using System.Xml.Linq;

namespace NeuralBuild.Engine.Tests.Reporting;

/// <summary>A rendered report read back as XML (it is XHTML as well as HTML), with the parts the tests look at.</summary>
internal sealed partial class ReportDocument
{
    public ReportDocument(string html)
    {
        Html = html;
        using var reader = XmlReader.Create(new StringReader(html), new XmlReaderSettings { DtdProcessing = DtdProcessing.Ignore });
        Root = XDocument.Load(reader).Root!;
    }

    public string Html { get; }

    public XElement Root { get; }

    public IEnumerable<XElement> All(string localName) => Root.Descendants().Where(e => e.Name.LocalName == localName);

    public IEnumerable<XElement> WithClass(string localName, string cssClass) =>
        All(localName).Where(e => ((string?)e.Attribute("class"))?.Split(' ').Contains(cssClass) == true);

    public XElement ById(string id) => Root.Descendants().Single(e => (string?)e.Attribute("id") == id);

    /// <summary>The graph's boxes: layer index, and the rectangle each occupies (from its translate and its box's size).</summary>
    public IReadOnlyList<(int Index, double X, double Y, double Width, double Height)> Boxes() =>
        [.. WithClass("g", "layer").Select(g =>
        {
            var translate = TranslatePattern().Match((string)g.Attribute("transform")!);
            var rect = g.Elements().Single(e => e.Name.LocalName == "rect" && (string?)e.Attribute("class") == "box");
            return (
                int.Parse((string)g.Attribute("data-index")!, CultureInfo.InvariantCulture),
                double.Parse(translate.Groups[1].Value, CultureInfo.InvariantCulture),
                double.Parse(translate.Groups[2].Value, CultureInfo.InvariantCulture),
                double.Parse((string)rect.Attribute("width")!, CultureInfo.InvariantCulture),
                double.Parse((string)rect.Attribute("height")!, CultureInfo.InvariantCulture));
        })];

    public IReadOnlyList<(int From, int To)> Edges() =>
        [.. WithClass("path", "edge").Select(p => (int.Parse((string)p.Attribute("data-from")!, CultureInfo.InvariantCulture), int.Parse((string)p.Attribute("data-to")!, CultureInfo.InvariantCulture)))];

    /// <summary>The cells of the table row whose first cell is <paramref name="firstCell"/> in the table of class <paramref name="table"/>.</summary>
    public (string? Class, string[] Cells) Row(string table, string firstCell)
    {
        var row = WithClass("table", table).Single().Elements().Where(e => e.Name.LocalName == "tr")
            .Single(tr => tr.Elements().First().Value == firstCell);
        return ((string?)row.Attribute("class"), [.. row.Elements().Select(td => td.Value)]);
    }

    [GeneratedRegex(@"translate\(([-0-9.]+),([-0-9.]+)\)")]
    private static partial Regex TranslatePattern();
}
