using System.Globalization;
using NeuralBuild.Engine.Execution.Profiling;

namespace NeuralBuild.Engine.Reporting;

/// <summary>
/// Where the measured time goes, as SVG: one bar per stage (as read, after folding), its length
/// the stage's summed layer time on a scale shared by both, split into one segment per op kind,
/// tensor kinds first (warm colours), then non-tensor kinds (cool colours).
/// </summary>
internal static class ProfileSvg
{
    private const double Width = 1000;
    private const double Label = 110;
    private const double BarHeight = 26;
    private const double RowHeight = 40;

    private static readonly string[] s_tensorColours = ["#d9531e", "#f0a27e", "#b8401a", "#f5c2a8"];
    private static readonly string[] s_otherColours = ["#2b5fab", "#6f9bd6", "#9ab87a", "#5aa5a0", "#a58bc9", "#c9b458", "#8c96a8", "#c97b9c"];

    public static void Write(Markup html, IReadOnlyList<(string Name, GraphProfile Profile)> stages)
    {
        var kinds = stages.SelectMany(s => s.Profile.Kinds).Select(k => (k.Op, k.Category)).Distinct()
            .OrderBy(k => k.Category == LayerCategory.Tensor ? 0 : 1).ToList();
        var colour = new Dictionary<string, string>(StringComparer.Ordinal);
        int tensor = 0, other = 0;
        foreach (var (op, category) in kinds)
        {
            colour[op] = category == LayerCategory.Tensor ? s_tensorColours[tensor++ % s_tensorColours.Length] : s_otherColours[other++ % s_otherColours.Length];
        }

        var longest = Math.Max(1e-9, stages.Max(s => s.Profile.LayersMilliseconds));
        var scale = (Width - Label - 80) / longest; // room for the total after the longest bar
        var legendTop = (stages.Count * RowHeight) + 8;
        var height = legendTop + (Math.Ceiling(kinds.Count / 6.0) * 18) + 6;
        html.Raw($"<svg class=\"time-chart\" xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {Markup.Number(Width)} {Markup.Number(height)}\" role=\"img\" aria-label=\"time per op kind\">\n");
        for (var i = 0; i < stages.Count; i++)
        {
            var (name, profile) = stages[i];
            var y = (i * RowHeight) + 6;
            html.Raw($"<text class=\"tick\" x=\"0\" y=\"{Markup.Number(y + 17)}\">").Text(name).Raw("</text>");
            var x = Label;
            foreach (var kind in profile.Kinds.OrderBy(k => kinds.FindIndex(c => c.Op == k.Op)))
            {
                var w = kind.Milliseconds * scale;
                html.Raw($"<rect class=\"segment\" x=\"{Markup.Number(x)}\" y=\"{Markup.Number(y)}\" width=\"{Markup.Number(Math.Max(0, w))}\" height=\"{BarHeight}\" fill=\"{colour[kind.Op]}\"><title>");
                html.Text(string.Create(CultureInfo.InvariantCulture, $"{name}: {kind.Op} {kind.Milliseconds:0.###} ms ({kind.Share:0.0%})")).Raw("</title></rect>");
                x += w;
            }

            html.Raw($"<text class=\"tick\" x=\"{Markup.Number(x + 6)}\" y=\"{Markup.Number(y + 17)}\">").Text(string.Create(CultureInfo.InvariantCulture, $"{profile.LayersMilliseconds:0.#} ms")).Raw("</text>\n");
        }

        for (var k = 0; k < kinds.Count; k++)
        {
            var x = Label + ((k % 6) * 145);
            var y = legendTop + ((k / 6) * 18);
            html.Raw($"<rect x=\"{Markup.Number(x)}\" y=\"{Markup.Number(y)}\" width=\"10\" height=\"10\" fill=\"{colour[kinds[k].Op]}\"/>");
            html.Raw($"<text class=\"tick\" x=\"{Markup.Number(x + 14)}\" y=\"{Markup.Number(y + 9)}\">").Text(kinds[k].Op).Raw("</text>\n");
        }

        html.Raw("</svg>\n");
    }
}
