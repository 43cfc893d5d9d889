using System.Globalization;
using System.Text;
using NeuralBuild.Engine.Analysis;

namespace NeuralBuild.Engine.Reporting;

/// <summary>
/// The model's graph as SVG: one <c>g.layer</c> per source layer (kind, name, output shape, line),
/// one <c>path.edge</c> per data-flow edge, laid out by <see cref="LayeredLayout"/>. A box's colour
/// and the bar along its foot grow with the layer's share of the model's MACC.
/// </summary>
internal static class GraphSvg
{
    private const int MaxLabel = 30;

    public static GraphLayout Layout(ModelReport report) =>
        LayeredLayout.Compute(
            [.. report.Layers.Select(l => l.Index)],
            report.Layers.SelectMany(l => l.InputLayers.Select(from => (from, l.Index))));

    public static void Write(Markup html, ModelReport report, GraphLayout layout, IReadOnlySet<int> removed)
    {
        var layers = report.Layers.ToDictionary(l => l.Index);
        var maxMacc = Math.Max(1, report.Layers.Select(l => l.Cost.Macc).DefaultIfEmpty(0).Max());
        html.Raw($"<svg id=\"graph\" xmlns=\"http://www.w3.org/2000/svg\" role=\"img\" aria-label=\"layer graph\" data-width=\"{Markup.Number(layout.Width)}\" data-height=\"{Markup.Number(layout.Height)}\">\n");
        html.Raw("<defs><marker id=\"arrow\" viewBox=\"0 0 8 8\" refX=\"8\" refY=\"4\" markerWidth=\"7\" markerHeight=\"7\" orient=\"auto\"><path d=\"M0,0 L8,4 L0,8 z\" class=\"arrowhead\"/></marker></defs>\n");
        html.Raw("<g id=\"viewport\">\n<g class=\"edges\">\n");
        foreach (var edge in layout.Edges)
        {
            html.Raw($"<path class=\"edge\" data-from=\"{edge.From}\" data-to=\"{edge.To}\" d=\"{Path(edge.Points)}\" marker-end=\"url(#arrow)\"/>\n");
        }

        html.Raw("</g>\n<g class=\"layers\">\n");
        foreach (var box in layout.Boxes)
        {
            var layer = layers[box.Id];
            var share = (double)layer.Cost.Macc / maxMacc;
            var classes = "layer" + (removed.Contains(layer.Index) ? " removed" : string.Empty) + (layer.Index == report.PeakLayerIndex ? " peak" : string.Empty);
            html.Raw($"<g class=\"{classes}\" id=\"layer-{layer.Index}\" data-index=\"{layer.Index}\" transform=\"translate({Markup.Number(box.X)},{Markup.Number(box.Y)})\">");
            html.Raw("<title>").Text(Tooltip(layer, report.Totals.Macc)).Raw("</title>");
            html.Raw($"<rect class=\"box\" width=\"{Markup.Number(box.Width)}\" height=\"{Markup.Number(box.Height)}\" rx=\"5\" fill=\"{Colour(share)}\"/>");
            if (layer.Cost.Macc > 0)
            {
                html.Raw($"<rect class=\"share\" x=\"0\" y=\"{Markup.Number(box.Height - 4)}\" width=\"{Markup.Number(Math.Max(2, box.Width * share))}\" height=\"4\"/>");
            }

            html.Raw("<text x=\"8\" y=\"16\" class=\"kind\">").Text(Truncate($"#{layer.Index} {layer.Kind}")).Raw("</text>");
            var second = HasOwnName(layer) ? layer.Name : layer.OutputShape;
            html.Raw("<text x=\"8\" y=\"31\" class=\"name\">").Text(Truncate(second)).Raw("</text>");
            var third = second == layer.OutputShape ? Where(layer) : $"{layer.OutputShape}  {Where(layer)}";
            html.Raw("<text x=\"8\" y=\"45\" class=\"shape\">").Text(Truncate(third.Trim())).Raw("</text>");
            html.Raw("</g>\n");
        }

        html.Raw("</g>\n</g>\n</svg>\n");
    }

    /// <summary>The figures a hover shows: everything on the box, untruncated.</summary>
    private static string Tooltip(LayerReport layer, long totalMacc) =>
        string.Create(CultureInfo.InvariantCulture,
            $"#{layer.Index} {layer.Kind} {layer.Name}\noutput {layer.OutputShape}\n{Where(layer)}\nMACC {HumanUnits.Count(layer.Cost.Macc)} ({Share(layer.Cost.Macc, totalMacc)} of the model)");

    /// <summary>Whether the file names the layer (Caffe, ONNX); Darknet's names are its indices.</summary>
    private static bool HasOwnName(LayerReport layer) =>
        layer.Name.Length > 0 && layer.Name != layer.Kind && layer.Name != layer.Index.ToString(CultureInfo.InvariantCulture);

    internal static string Share(long part, long whole) =>
        whole <= 0 ? "0%" : ((double)part / whole).ToString("0.#%", CultureInfo.InvariantCulture);

    internal static string Where(LayerReport layer) =>
        layer.Location.HasLine ? $"line {layer.Location.Line}" : string.Empty;

    private static string Truncate(string text) =>
        text.Length <= MaxLabel ? text : string.Concat(text.AsSpan(0, MaxLabel - 1), "…");

    /// <summary>Pale for no MACC, deep orange for the model's costliest layer; square-root scaled so mid-sized layers still show.</summary>
    internal static string Colour(double share)
    {
        var t = Math.Sqrt(Math.Clamp(share, 0, 1));
        static int Mix(int from, int to, double t) => (int)Math.Round(from + ((to - from) * t));
        return string.Create(CultureInfo.InvariantCulture, $"#{Mix(0xF2, 0xF0, t):X2}{Mix(0xF4, 0x7A, t):X2}{Mix(0xF8, 0x3C, t):X2}");
    }

    /// <summary>Through every point, with vertical tangents at each so the edge leaves and enters boxes straight.</summary>
    private static string Path(IReadOnlyList<(double X, double Y)> points)
    {
        var d = new StringBuilder();
        d.Append('M').Append(Markup.Number(points[0].X)).Append(',').Append(Markup.Number(points[0].Y));
        for (var i = 1; i < points.Count; i++)
        {
            var (x0, y0) = points[i - 1];
            var (x1, y1) = points[i];
            if (Math.Abs(x0 - x1) < 0.01)
            {
                d.Append(" L").Append(Markup.Number(x1)).Append(',').Append(Markup.Number(y1));
                continue;
            }

            var mid = (y0 + y1) / 2;
            d.Append(" C").Append(Markup.Number(x0)).Append(',').Append(Markup.Number(mid))
                .Append(' ').Append(Markup.Number(x1)).Append(',').Append(Markup.Number(mid))
                .Append(' ').Append(Markup.Number(x1)).Append(',').Append(Markup.Number(y1));
        }

        return d.ToString();
    }
}
