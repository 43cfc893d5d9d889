using System.Globalization;
using NeuralBuild.Engine.Analysis;

namespace NeuralBuild.Engine.Reporting;

/// <summary>One figure of every layer, as a bar chart in layer order.</summary>
/// <param name="Id">The chart's element id and metric name.</param>
/// <param name="Title">The heading above the chart.</param>
/// <param name="Value">The figure of a layer.</param>
/// <param name="Format">How a figure reads in the chart's labels.</param>
internal sealed record ChartMetric(string Id, string Title, Func<CostFigures, long> Value, Func<long, string> Format);

/// <summary>
/// Per-layer bar charts as SVG: a bar per layer (its figures on hover, a click selects it in the
/// graph), the largest value on the axis, and a dashed mark at the layer where live activations peak.
/// With an optimised model, each layer's figure after optimisation is drawn over its own bar.
/// </summary>
internal static class BarChartSvg
{
    private const double Width = 1000;
    private const double Height = 180;
    private const double Left = 64;
    private const double Right = 10;
    private const double Top = 22;
    private const double Bottom = 28;

    public static void Write(Markup html, ChartMetric metric, ModelReport report, IReadOnlyDictionary<int, LayerReport>? after)
    {
        var layers = report.Layers;
        var values = layers.Select(l => metric.Value(l.Cost)).ToList();
        var afterValues = layers.Select(l => after is not null && after.TryGetValue(l.Index, out var a) ? metric.Value(a.Cost) : (long?)null).ToList();
        var max = Math.Max(1, values.Concat(afterValues.Select(v => v ?? 0)).DefaultIfEmpty(0).Max());
        var plotWidth = Width - Left - Right;
        var plotHeight = Height - Top - Bottom;
        var slot = layers.Count == 0 ? plotWidth : plotWidth / layers.Count;
        double Y(long v) => Top + plotHeight - (plotHeight * v / max);

        html.Raw($"<svg class=\"chart\" id=\"chart-{metric.Id}\" data-metric=\"{metric.Id}\" xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {Markup.Number(Width)} {Markup.Number(Height)}\" role=\"img\" aria-label=\"");
        html.Text(metric.Title).Raw(" per layer\">\n");
        html.Raw($"<line class=\"axis\" x1=\"{Left}\" y1=\"{Markup.Number(Top + plotHeight)}\" x2=\"{Markup.Number(Width - Right)}\" y2=\"{Markup.Number(Top + plotHeight)}\"/>");
        html.Raw($"<line class=\"axis\" x1=\"{Left}\" y1=\"{Top}\" x2=\"{Left}\" y2=\"{Markup.Number(Top + plotHeight)}\"/>");
        html.Raw($"<text class=\"tick\" x=\"{Left - 4}\" y=\"{Markup.Number(Top + 4)}\" text-anchor=\"end\">").Text(metric.Format(max)).Raw("</text>");
        html.Raw($"<text class=\"tick\" x=\"{Left - 4}\" y=\"{Markup.Number(Top + plotHeight)}\" text-anchor=\"end\">0</text>\n");

        var tickEvery = Math.Max(1, (int)Math.Ceiling(layers.Count / 12.0));
        for (var i = 0; i < layers.Count; i++)
        {
            var x = Left + (i * slot);
            var l = layers[i];
            var barWidth = Math.Max(0.5, slot * (layers.Count > 200 ? 1 : 0.8));
            html.Raw($"<rect class=\"bar\" data-index=\"{l.Index}\" x=\"{Markup.Number(x)}\" y=\"{Markup.Number(Y(values[i]))}\" width=\"{Markup.Number(barWidth)}\" height=\"{Markup.Number(Top + plotHeight - Y(values[i]))}\"><title>");
            html.Text(string.Create(CultureInfo.InvariantCulture, $"#{l.Index} {l.Kind} {l.Name}: {metric.Format(values[i])}"));
            if (afterValues[i] is { } afterValue)
            {
                html.Text($" (after: {metric.Format(afterValue)})");
            }

            html.Raw("</title></rect>");
            if (afterValues[i] is { } optimised)
            {
                html.Raw($"<rect class=\"bar after\" data-index=\"{l.Index}\" x=\"{Markup.Number(x + (barWidth / 4))}\" y=\"{Markup.Number(Y(optimised))}\" width=\"{Markup.Number(barWidth / 2)}\" height=\"{Markup.Number(Top + plotHeight - Y(optimised))}\"/>");
            }

            if (i % tickEvery == 0)
            {
                html.Raw($"<text class=\"tick\" x=\"{Markup.Number(x + (slot / 2))}\" y=\"{Markup.Number(Height - 12)}\" text-anchor=\"middle\">{l.Index}</text>");
            }

            html.Raw("\n");
        }

        var peak = layers.Select((l, i) => (l, i)).FirstOrDefault(p => p.l.Index == report.PeakLayerIndex);
        if (peak.l is not null)
        {
            var x = Markup.Number(Left + ((peak.i + 0.5) * slot));
            html.Raw($"<line class=\"peak-mark\" x1=\"{x}\" y1=\"{Top - 8}\" x2=\"{x}\" y2=\"{Markup.Number(Top + plotHeight)}\"/>");
            var anchor = peak.i > layers.Count / 2 ? "end" : "start";
            html.Raw($"<text class=\"peak-label\" x=\"{x}\" y=\"{Top - 10}\" text-anchor=\"{anchor}\">");
            html.Text($"peak activation {HumanUnits.Bytes(report.PeakActivationBytes)} at layer {report.PeakLayerIndex}").Raw("</text>\n");
        }

        html.Raw("</svg>\n");
    }
}
