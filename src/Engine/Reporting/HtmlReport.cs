using System.Globalization;
using System.Text.Encodings.Web;
using System.Text.Json;
using NeuralBuild.Engine.Analysis;
using NeuralBuild.Engine.Budgets;
using NeuralBuild.Engine.Execution.Profiling;
using NeuralBuild.Engine.Pipeline;

namespace NeuralBuild.Engine.Reporting;

/// <summary>
/// One self-contained HTML file for a model: the graph (SVG, laid out here, zoom and pan, a click
/// shows a layer's figures), per-layer bar charts, totals against budgets and the baseline, and after
/// an optimisation the figures before and after, the folds applied and refused, and the
/// verification's errors. Styles, script and drawings are inline: the file opens from disk with no
/// network. Everything from the model is escaped (<see cref="Markup"/>).
/// </summary>
public static class HtmlReport
{
    /// <summary>The report's markup; write it with UTF-8.</summary>
    public static string Render(HtmlReportInput input)
    {
        ArgumentNullException.ThrowIfNull(input);
        var model = input.Model;
        var diff = input.Optimized is { } optimized ? ModelDiff.Compare(model, optimized.After) : null;
        var afterByIndex = diff?.Layers.Where(d => d.Before is not null && d.After is not null).ToDictionary(d => d.Before!.Index, d => d.After!);
        var removed = (input.Optimized?.RemovedLayers ?? []).ToHashSet();

        var html = new Markup();
        var title = Path.GetFileName(model.ModelPath);
        html.Raw("<!DOCTYPE html>\n<html xmlns=\"http://www.w3.org/1999/xhtml\" lang=\"en\">\n<head>\n<meta charset=\"utf-8\"/>\n");
        html.Raw("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"/>\n");
        html.Element("title", $"{title}: NeuralBuild report").Raw("\n");
        html.Raw("<style>/*<![CDATA[*/\n").Raw(ReportAssets.Css).Raw("\n/*]]>*/</style>\n</head>\n<body>\n");

        Header(html, input);
        html.Raw("<section id=\"graph-section\">\n<h2>Graph</h2>\n");
        html.Raw("<p class=\"hint\">Wheel: zoom. Drag: pan. Click a layer for its figures. Colour and the bar under each box: the layer's share of the model's MACC");
        html.Raw(removed.Count > 0 ? "; dashed: removed by the optimisation" : string.Empty).Raw("; red outline: where live activations peak.</p>\n");
        html.Raw("<div class=\"toolbar\"><button type=\"button\" id=\"fit\">Fit</button><button type=\"button\" id=\"actual\">100%</button><button type=\"button\" id=\"top\">Top</button></div>\n");
        html.Raw("<div class=\"graph-wrap\">\n");
        GraphSvg.Write(html, model, GraphSvg.Layout(model), removed);
        html.Raw("<aside id=\"details\"><p class=\"hint\">Click a layer.</p></aside>\n</div>\n</section>\n");

        Charts(html, model, afterByIndex, input.Optimized?.Operation);
        Budgets(html, input);
        if (input.Optimized is { } o && diff is not null)
        {
            Optimization(html, o, diff);
        }

        if (input.Profile is { } profile)
        {
            Profile(html, profile);
        }

        html.Raw("<footer>").Text($"{input.Generator} · NeuralBuild report · {model.ModelPath}").Raw("</footer>\n");
        html.Raw("<script type=\"application/json\" id=\"layer-data\">").Raw(LayerData(input, afterByIndex)).Raw("</script>\n");
        html.Raw("<script>/*<![CDATA[*/\n").Raw(ReportAssets.Script).Raw("\n/*]]>*/</script>\n</body>\n</html>\n");
        return html.ToString();
    }

    private static readonly ChartMetric[] s_charts =
    [
        new("macc", "MACC", c => c.Macc, HumanUnits.Count),
        new("params", "Parameters", c => c.Params, HumanUnits.Count),
        new("activation", "Activation bytes", c => c.ActivationBytes, HumanUnits.Bytes),
        new("memory", "Memory access (elements)", c => c.MemoryAccess, HumanUnits.Count),
    ];

    private static void Header(Markup html, HtmlReportInput input)
    {
        var model = input.Model;
        html.Raw("<header>\n").Element("h1", Path.GetFileName(model.ModelPath)).Raw("\n<p class=\"meta\">");
        html.Text($"{model.Format} · input {model.InputShape} · {model.Layers.Count} layers · convention {model.Convention.Name} · {model.ModelPath}").Raw("</p>\n");
        html.Raw("<div class=\"cards\">\n");
        var after = input.Optimized?.After;
        void Card(string label, long value, long? optimised, Func<long, string> format, string? note = null)
        {
            html.Raw("<div class=\"card\">").Element("div", label, "label").Element("div", format(value), "value");
            if (optimised is { } a)
            {
                html.Element("div", $"after {input.Optimized!.Operation}: {format(a)} ({Change(value, a)})", "after");
            }

            if (note is not null)
            {
                html.Element("div", note, "note");
            }

            html.Raw("</div>\n");
        }

        Card("MACC", model.Totals.Macc, after?.Totals.Macc, HumanUnits.Count);
        Card("Parameters", model.Totals.Params, after?.Totals.Params, HumanUnits.Count);
        Card("Weights", model.Totals.WeightsBytes, after?.Totals.WeightsBytes, HumanUnits.Bytes);
        Card("Peak activation", model.PeakActivationBytes, after?.PeakActivationBytes, HumanUnits.Bytes, $"at layer {model.PeakLayerIndex}");
        Card("Memory access", model.Totals.MemoryAccess, after?.Totals.MemoryAccess, HumanUnits.Count, "elements (naive)");
        html.Raw("</div>\n</header>\n");
    }

    private static void Charts(Markup html, ModelReport model, IReadOnlyDictionary<int, LayerReport>? after, string? operation)
    {
        html.Raw("<section id=\"charts\">\n<h2>Per layer</h2>\n");
        if (after is not null)
        {
            html.Raw("<p class=\"hint\">").Text($"Wide pale bars: the model as read; narrow dark bars: after {operation}. Click a bar to find its layer in the graph.").Raw("</p>\n");
        }

        foreach (var metric in s_charts)
        {
            html.Raw("<figure>").Element("figcaption", metric.Title);
            BarChartSvg.Write(html, metric, model, after);
            html.Raw("</figure>\n");
        }

        html.Raw("</section>\n");
    }

    /// <summary>Totals against the budgets (with their margins) and the baseline, for the figures the build checks.</summary>
    private static void Budgets(Markup html, HtmlReportInput input)
    {
        var checkedReport = input.Checked;
        var metrics = ModelMetrics.FromReport(checkedReport, checkedReport.ModelPath);
        var settings = input.Budgets;
        html.Raw("<section id=\"budgets\">\n<h2>Budgets</h2>\n<p class=\"hint\">");
        html.Text(input.Optimized is null ? "The model's totals." : $"The totals after {input.Optimized.Operation}, as the build checks them.");
        if (input.Baseline is not null)
        {
            html.Text($" Baseline: {input.BaselinePath ?? input.Baseline.Key}" + (input.Baseline.AcceptedWhen is { } when ? $", accepted {when}" : string.Empty) + (input.Baseline.AcceptedWhy is { } why ? $" ({why})" : string.Empty) + ".");
        }
        else
        {
            html.Text(" No baseline given.");
        }

        if (settings is null || (settings.Max.Count == 0 && settings.Warn.Count == 0 && settings.Increase.Count == 0))
        {
            html.Text(" No budgets given.");
        }

        html.Raw("</p>\n<table class=\"budgets\">\n");
        html.HeaderRow("metric", "current", "budget (Max)", "used", "margin", "warning (Warn)", "baseline", "change", "allowed increase");
        foreach (var metric in BudgetMetric.All)
        {
            var current = metrics.Value(metric);
            Budget? max = null, warn = null;
            RegressionSetting? increase = null;
            settings?.Max.TryGetValue(metric, out max);
            settings?.Warn.TryGetValue(metric, out warn);
            settings?.Increase.TryGetValue(metric, out increase);
            long? baseline = input.Baseline is { } entry && entry.Metrics.TryGetValue(metric.Key, out var b) ? b : null;
            var status = max is not null && current > max.Value ? "fail"
                : warn is not null && current > warn.Value ? "warn"
                : increase is not null && baseline is { } was && current > increase.Limit.Allowed(was) ? "fail"
                : max is not null || warn is not null || increase is not null ? "ok" : null;
            html.Row(
                [
                    metric.Label,
                    metric.Rounded(current),
                    max is null ? "-" : $"{max.Setting}={max.Text}",
                    max is null || max.Value <= 0 ? "-" : ((double)current / max.Value).ToString("0.0%", CultureInfo.InvariantCulture),
                    max is null ? "-" : Signed(max.Value - current, metric),
                    warn is null ? "-" : $"{warn.Setting}={warn.Text}",
                    baseline is null ? "-" : metric.Rounded(baseline.Value),
                    baseline is null ? "-" : Change(baseline.Value, current),
                    increase is null ? "-" : $"{increase.Setting}={increase.Limit}",
                ],
                numericFrom: 1,
                cssClass: status);
        }

        html.Raw("</table>\n</section>\n");
        if (input.Baseline is not null)
        {
            BaselineChangesSection(html, BaselineChanges.Between(input.Baseline, metrics));
        }
    }

    /// <summary>The layers that differ from the baseline's, paired as <c>dotnet neural diff</c> pairs them: what a regression error refers to.</summary>
    private static void BaselineChangesSection(Markup html, BaselineChanges? changes)
    {
        html.Raw("<section id=\"baseline-changes\">\n<h2>Changes against the baseline</h2>\n");
        html.Element("p", changes?.Summary() ?? BaselineChanges.NoLayersNote, "hint").Raw("\n");
        if (changes is not null && changes.Changed.Count > 0)
        {
            html.Raw("<table class=\"layer-diff baseline-diff\">\n").HeaderRow(BaselineChanges.Columns);
            foreach (var row in changes.Changed)
            {
                html.Row(BaselineChanges.Row(row), BaselineChanges.FirstNumericColumn, row.Change.ToString().ToLowerInvariant());
            }

            html.Raw("</table>\n");
        }

        html.Raw("</section>\n");
    }

    private static void Optimization(Markup html, OptimizedModel optimized, ModelDiff diff)
    {
        html.Raw("<section id=\"optimization\">\n").Element("h2", $"Before and after {optimized.Operation}").Raw("\n<table class=\"totals\">\n");
        html.HeaderRow("metric", "before", "after", "change");
        void Total(string name, long before, long after, Func<long, string> format) =>
            html.Row([name, format(before), format(after), Change(before, after)], numericFrom: 1);
        Total("MACC", diff.Before.Totals.Macc, diff.After.Totals.Macc, HumanUnits.CountWithExact);
        Total("parameters", diff.Before.Totals.Params, diff.After.Totals.Params, HumanUnits.CountWithExact);
        Total("weights", diff.Before.Totals.WeightsBytes, diff.After.Totals.WeightsBytes, HumanUnits.BytesWithExact);
        Total("memory access (naive)", diff.Before.Totals.MemoryAccess, diff.After.Totals.MemoryAccess, HumanUnits.CountWithExact);
        Total("activation bytes", diff.Before.Totals.ActivationBytes, diff.After.Totals.ActivationBytes, HumanUnits.BytesWithExact);
        Total("peak activation", diff.Before.PeakActivationBytes, diff.After.PeakActivationBytes, HumanUnits.BytesWithExact);
        Total("layers", diff.Before.Layers.Count, diff.After.Layers.Count, v => v.ToString(CultureInfo.InvariantCulture));
        html.Raw("</table>\n");

        var applied = optimized.Passes.Applied.ToList();
        html.Element("h3", $"Folds applied ({applied.Count})").Raw("\n<table class=\"folds applied\">\n");
        html.HeaderRow("pass", "layers", "count");
        foreach (var group in applied.GroupBy(e => e.Pass))
        {
            html.Row([group.Key, string.Join(", ", group.Select(e => e.Origin.Index).Distinct()), group.Count().ToString(CultureInfo.InvariantCulture)], numericFrom: 2);
        }

        html.Raw("</table>\n");
        var refused = optimized.Passes.NotApplied.ToList();
        html.Element("h3", $"Folds not applied ({refused.Count})").Raw("\n<table class=\"folds refused\">\n");
        html.HeaderRow("layer", "kind", "where", "pass", "reason");
        foreach (var e in refused)
        {
            html.Row([$"#{e.Origin.Index}", e.Origin.Kind, e.Origin.Location.HasLine ? $"line {e.Origin.Location.Line}" : e.Node, e.Pass, e.Detail]);
        }

        html.Raw("</table>\n");
        Verification(html, optimized.Verification);

        var changed = diff.Layers.Where(d => d.Change != LayerChange.Unchanged).ToList();
        html.Element("h3", $"Layers changed ({changed.Count} of {diff.Layers.Count}; unchanged layers not listed)").Raw("\n<table class=\"layer-diff\">\n");
        html.HeaderRow("layer", "kind", "name", "change", "MACC before", "MACC after", "params before", "params after", "activation before", "activation after", "ops removed");
        foreach (var d in changed)
        {
            html.Row(
                [
                    d.Indices, d.Kind, (d.After ?? d.Before)!.Name, d.Change.ToString().ToLowerInvariant(),
                    Figure(d.Before, c => HumanUnits.Count(c.Macc)), Figure(d.After, c => HumanUnits.Count(c.Macc)),
                    Figure(d.Before, c => HumanUnits.Count(c.Params)), Figure(d.After, c => HumanUnits.Count(c.Params)),
                    Figure(d.Before, c => HumanUnits.Bytes(c.ActivationBytes)), Figure(d.After, c => HumanUnits.Bytes(c.ActivationBytes)),
                    string.Join(", ", d.OpsRemoved),
                ],
                numericFrom: 4,
                cssClass: d.Change.ToString().ToLowerInvariant());
        }

        html.Raw("</table>\n</section>\n");
    }

    private static void Verification(Markup html, VerificationReport? verification)
    {
        if (verification is null)
        {
            html.Element("h3", "Verification").Element("p", "Not verified.", "hint").Raw("\n");
            return;
        }

        html.Element("h3", $"Verification: {(verification.Passed ? "passed" : "FAILED")} ({verification.Mode}, |a-b| <= {verification.AbsoluteTolerance:G3} + {verification.RelativeTolerance:G3}*max(|b|, channel rms))").Raw("\n<table class=\"verification\">\n");
        html.HeaderRow("compared", "value", "elements", "max abs error", "max rel error", "result");
        foreach (var c in verification.Comparisons)
        {
            html.Row(
                [
                    c.Subject, c.Output, HumanUnits.Exact(c.Elements),
                    c.MaxAbsoluteError.ToString("G3", CultureInfo.InvariantCulture), c.MaxRelativeError.ToString("G3", CultureInfo.InvariantCulture),
                    c.WithinTolerance ? "within tolerance" : c.WithinRoundingFloor ? "within the rounding floor" : "over tolerance",
                ],
                numericFrom: 2,
                cssClass: c.Passed ? null : "fail");
        }

        html.Raw("</table>\n");
    }

    private static void Profile(Markup html, ModelProfile profile)
    {
        html.Raw("<section id=\"profile\">\n<h2>Measured time</h2>\n<p class=\"hint\">");
        html.Text(string.Create(CultureInfo.InvariantCulture, $"Reference executor, median of {profile.Before.Runs} warm runs on {profile.Before.Threads} thread(s), input {profile.InputShape}. Tensor layers: convolution, deconvolution, fully connected, matrix product; the rest are non-tensor layers."));
        html.Raw("</p>\n");
        var stages = new List<(string Name, GraphProfile Profile)> { ("as read", profile.Before) };
        if (profile.Folded is { } folded)
        {
            stages.Add(("after folding", folded));
        }

        ProfileSvg.Write(html, stages);
        html.Raw("<table class=\"profile\">\n");
        html.HeaderRow([
            "kind", "category",
            .. stages.SelectMany(s => new[] { $"layers {s.Name}", $"ms {s.Name}", $"share {s.Name}" })]);
        var kinds = stages.SelectMany(s => s.Profile.Kinds).Select(k => (k.Op, k.Category)).Distinct().ToList();
        foreach (var (op, category) in kinds)
        {
            html.Row(
                [
                    op, ProfileFormatter.Category(category),
                    .. stages.SelectMany(s => s.Profile.Kinds.FirstOrDefault(k => k.Op == op) is { } k
                        ? new[] { Count(k.Layers), Milliseconds(k.Milliseconds), Percent(k.Share) }
                        : ["-", "-", "-"]),
                ],
                numericFrom: 2);
        }

        foreach (var category in new[] { LayerCategory.Tensor, LayerCategory.NonTensor })
        {
            html.Row(
                [
                    ProfileFormatter.Category(category) + " layers", string.Empty,
                    .. stages.SelectMany(s => new[]
                    {
                        Count(s.Profile.Layers.Count(l => l.Category == category)),
                        Milliseconds(s.Profile.Milliseconds(category)),
                        Percent(s.Profile.LayersMilliseconds > 0 ? s.Profile.Milliseconds(category) / s.Profile.LayersMilliseconds : 0),
                    }),
                ],
                numericFrom: 2,
                cssClass: "total");
        }

        html.Row(["whole forward pass", string.Empty, .. stages.SelectMany(s => new[] { Count(s.Profile.Layers.Count), Milliseconds(s.Profile.ForwardPassMilliseconds), string.Empty })], numericFrom: 2, cssClass: "total");
        html.Raw("</table>\n</section>\n");

        static string Count(int n) => n.ToString(CultureInfo.InvariantCulture);
        static string Milliseconds(double ms) => ms.ToString("0.###", CultureInfo.InvariantCulture);
        static string Percent(double share) => share.ToString("0.0%", CultureInfo.InvariantCulture);
    }

    /// <summary>The figures the side panel shows for a clicked layer, as JSON (System.Text.Json escapes <c>&lt;</c>, <c>&amp;</c> and quotes, so no model text can end the script element).</summary>
    private static string LayerData(HtmlReportInput input, Dictionary<int, LayerReport>? after)
    {
        var folds = input.Optimized?.Passes.Events.ToLookup(e => e.Origin.Index);
        using var stream = new MemoryStream();
        using (var json = new Utf8JsonWriter(stream, new JsonWriterOptions { Encoder = JavaScriptEncoder.Default }))
        {
            json.WriteStartObject();
            json.WriteString("operation", input.Optimized?.Operation);
            json.WriteNumber("totalMacc", input.Model.Totals.Macc);
            json.WriteNumber("peakLayer", input.Model.PeakLayerIndex);
            json.WritePropertyName("layers");
            json.WriteStartArray();
            foreach (var layer in input.Model.Layers)
            {
                json.WriteStartObject();
                json.WriteNumber("index", layer.Index);
                json.WriteString("kind", layer.Kind);
                json.WriteString("name", layer.Name);
                json.WriteString("file", layer.Location.File);
                json.WriteNumber("line", layer.Location.Line);
                json.WriteString("outputShape", layer.OutputShape);
                json.WriteString("ops", string.Join(", ", layer.Ops));
                json.WriteString("inputs", string.Join(", ", layer.InputLayers.Select(i => "#" + i.ToString(CultureInfo.InvariantCulture))));
                json.WriteString("maccShare", GraphSvg.Share(layer.Cost.Macc, input.Model.Totals.Macc));
                Figures(json, "figures", layer.Cost);
                if (after is not null && after.TryGetValue(layer.Index, out var a))
                {
                    Figures(json, "after", a.Cost);
                }
                else if (after is not null)
                {
                    json.WriteNull("after");
                }

                json.WritePropertyName("passes");
                json.WriteStartArray();
                foreach (var e in folds?[layer.Index] ?? [])
                {
                    json.WriteStringValue($"{e.Pass}: {(e.Outcome == Passes.PassOutcome.Applied ? "applied" : "not applied")}{(e.Detail.Length > 0 ? " (" + e.Detail + ")" : string.Empty)}");
                }

                json.WriteEndArray();
                json.WriteEndObject();
            }

            json.WriteEndArray();
            json.WriteEndObject();
        }

        return System.Text.Encoding.UTF8.GetString(stream.ToArray());
    }

    /// <summary>Every figure, rounded and exact, in the order the panel lists them.</summary>
    private static void Figures(Utf8JsonWriter json, string name, CostFigures c)
    {
        json.WritePropertyName(name);
        json.WriteStartArray();
        void Item(string label, string value)
        {
            json.WriteStartArray();
            json.WriteStringValue(label);
            json.WriteStringValue(value);
            json.WriteEndArray();
        }

        Item("MACC", HumanUnits.CountWithExact(c.Macc));
        Item("FLOPs", HumanUnits.CountWithExact(c.Flops));
        Item("parameters", HumanUnits.CountWithExact(c.Params));
        Item("weights", HumanUnits.BytesWithExact(c.WeightsBytes));
        Item("activation", HumanUnits.BytesWithExact(c.ActivationBytes));
        Item("memory access (naive)", HumanUnits.CountWithExact(c.MemoryAccess));
        Item("memory access (ideal)", HumanUnits.CountWithExact(c.MemoryAccessIdeal));
        json.WriteEndArray();
    }

    private static string Figure(LayerReport? layer, Func<CostFigures, string> figure) => layer is null ? "-" : figure(layer.Cost);

    /// <summary>The change from <paramref name="before"/> to <paramref name="after"/>, signed, and relative where the start is not zero.</summary>
    private static string Change(long before, long after)
    {
        var delta = after - before;
        var signed = delta.ToString("+#,0;-#,0;0", CultureInfo.InvariantCulture);
        return before == 0 ? signed : string.Create(CultureInfo.InvariantCulture, $"{signed} ({(double)delta / before:+0.0%;-0.0%;0%})");
    }

    private static string Signed(long value, BudgetMetric metric) => (value < 0 ? "-" : "+") + metric.Rounded(Math.Abs(value));
}
