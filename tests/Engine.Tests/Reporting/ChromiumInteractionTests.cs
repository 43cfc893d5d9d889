using System.Globalization;
using System.Net;
using System.Text.Json;
using System.Text.RegularExpressions;
using NeuralBuild.Engine.Analysis;
using NeuralBuild.Engine.Formats;
using NeuralBuild.Engine.Reporting;
using NeuralBuild.Engine.Tests.Support;

namespace NeuralBuild.Engine.Tests.Reporting;

/// <summary>
/// The graph's zoom, pan, Fit and click, driven in headless Chromium as a mouse drives them: a probe
/// script appended to the report dispatches wheel and pointer events at the graph and records the
/// viewport's transform after each, which the test then checks against geometry worked out here
/// (the point under the cursor stays put while zooming, measured from the SVG's content box, where
/// its drawing starts; a drag moves the graph by the drag).
/// </summary>
[TestClass]
[TestCategory("Chromium")]
public sealed partial class ChromiumInteractionTests
{
    /// <summary>Wheel up 200 px at a point; wheel up one notch as Firefox reports it (3 lines); drag by (40, 25); Fit; click the target layer's box.</summary>
    private const string Probe = """
        <script>
        (function () {
          var svg = document.getElementById('graph');
          var viewport = document.getElementById('viewport');
          var steps = {};
          function record(name) { steps[name] = viewport.getAttribute('transform'); }
          function pointer(type, x, y, buttons) {
            return svg.dispatchEvent(new PointerEvent(type, { pointerId: 1, pointerType: 'mouse', isPrimary: true, clientX: x, clientY: y, button: 0, buttons: buttons, bubbles: true, cancelable: true, view: window }));
          }
          function wheel(deltaY, deltaMode, x, y) {
            return svg.dispatchEvent(new WheelEvent('wheel', { deltaY: deltaY, deltaMode: deltaMode, clientX: x, clientY: y, bubbles: true, cancelable: true, view: window }));
          }
          svg.scrollIntoView({ block: 'start' });
          document.getElementById('fit').click();
          record('fit');
          var r = svg.getBoundingClientRect();
          // Whole pixels: a synthetic MouseEvent's clientX/clientY are integers.
          var px = Math.round(r.left + r.width * 0.3), py = Math.round(r.top + r.height * 0.4);
          var wheelScrolledThePage = wheel(-200, 0, px, py);
          record('wheel');
          wheel(-3, 1, px, py);
          record('wheelLines');
          pointer('pointerdown', px, py, 1);
          pointer('pointermove', px + 20, py + 10, 1);
          pointer('pointermove', px + 40, py + 25, 1);
          pointer('pointerup', px + 40, py + 25, 0);
          record('drag');
          var selectedAfterDrag = document.querySelectorAll('#graph g.layer.selected').length;
          document.getElementById('fit').click();
          record('fitAgain');
          var box = document.getElementById('layer-' + TARGET).querySelector('rect.box').getBoundingClientRect();
          var cx = Math.round(box.left + box.width / 2), cy = Math.round(box.top + box.height / 2);
          pointer('pointerdown', cx, cy, 1);
          pointer('pointerup', cx, cy, 0);
          document.body.setAttribute('data-probe', JSON.stringify({
            steps: steps, x: px - r.left - svg.clientLeft, y: py - r.top - svg.clientTop, wheelScrolledThePage: wheelScrolledThePage, selectedAfterDrag: selectedAfterDrag,
            selected: Array.prototype.map.call(document.querySelectorAll('#graph g.layer.selected'), function (g) { return g.getAttribute('data-index'); }),
            panel: document.querySelector('#details h3') ? document.getElementById('details').textContent : ''
          }));
        }());
        </script>
        """;

    private static readonly JsonSerializerOptions s_json = new(JsonSerializerDefaults.Web);

    private sealed record ProbeResult(Dictionary<string, string> Steps, double X, double Y, bool WheelScrolledThePage, int SelectedAfterDrag, string[] Selected, string Panel);

    private sealed record View(double X, double Y, double K)
    {
        /// <summary>The graph point drawn at screen point (<paramref name="px"/>, <paramref name="py"/>) of the SVG.</summary>
        public (double X, double Y) GraphPoint(double px, double py) => ((px - X) / K, (py - Y) / K);
    }

    private static View Parse(string transform)
    {
        var m = TransformPattern().Match(transform);
        Assert.IsTrue(m.Success, $"'{transform}' is not translate(x,y) scale(k)");
        double D(int group) => double.Parse(m.Groups[group].Value, CultureInfo.InvariantCulture);
        return new View(D(1), D(2), D(3));
    }

    private static ProbeResult Drive(string reportHtml, int target)
    {
        var probed = reportHtml.Replace("</body>", Probe.Replace("TARGET", target.ToString(CultureInfo.InvariantCulture), StringComparison.Ordinal) + "\n</body>", StringComparison.Ordinal);
        using var temp = new TempDirectory();
        var page = HeadlessChromium.Open(HeadlessChromium.FileUrl(temp.WriteText("probed.html", probed)));
        Assert.IsEmpty(page.ConsoleMessages, string.Join('\n', page.ConsoleMessages));
        var attribute = ProbeAttribute().Match(page.Dom);
        Assert.IsTrue(attribute.Success, "the probe did not run to its end:\n" + page.Log);
        return JsonSerializer.Deserialize<ProbeResult>(WebUtility.HtmlDecode(attribute.Groups[1].Value), s_json)!;
    }

    private static void AssertZoomPanFit(ProbeResult probe)
    {
        var fit = Parse(probe.Steps["fit"]);
        var wheel = Parse(probe.Steps["wheel"]);
        var lines = Parse(probe.Steps["wheelLines"]);
        var drag = Parse(probe.Steps["drag"]);

        Assert.IsFalse(probe.WheelScrolledThePage, "the wheel over the graph zooms it and does not also scroll the page");
        Assert.IsGreaterThan(fit.K * 1.1, wheel.K, "wheel up zooms in");
        var (gx, gy) = fit.GraphPoint(probe.X, probe.Y);
        var (wx, wy) = wheel.GraphPoint(probe.X, probe.Y);
        Assert.AreEqual(gx, wx, 1e-6 * Math.Max(1, Math.Abs(gx)), "the point under the cursor stays under it");
        Assert.AreEqual(gy, wy, 1e-6 * Math.Max(1, Math.Abs(gy)));

        // A mouse notch in line units (Firefox: 3 lines) zooms as visibly as one in pixels.
        Assert.IsGreaterThan(wheel.K * 1.1, lines.K, "a wheel notch in lines barely zoomed");
        var (lx, ly) = lines.GraphPoint(probe.X, probe.Y);
        Assert.AreEqual(gx, lx, 1e-6 * Math.Max(1, Math.Abs(gx)));
        Assert.AreEqual(gy, ly, 1e-6 * Math.Max(1, Math.Abs(gy)));

        Assert.AreEqual(lines.K, drag.K, "a drag does not zoom");
        Assert.AreEqual(lines.X + 40, drag.X, 1e-6, "the graph follows the pointer");
        Assert.AreEqual(lines.Y + 25, drag.Y, 1e-6);
        Assert.AreEqual(0, probe.SelectedAfterDrag, "a drag is not a click");

        Assert.AreEqual(probe.Steps["fit"], probe.Steps["fitAgain"], "Fit restores the whole-graph view after zoom and pan");
    }

    [TestMethod]
    public void Wheel_zooms_about_the_cursor_drag_pans_Fit_restores_and_a_click_shows_the_layers_figures()
    {
        using var temp = new TempDirectory();
        // conv1: 4 outputs of 8x8, 3x3x3 multiply-adds each = 6,912 MACC; conv2 (1x1): 2 outputs of 8x8, 4 each = 512 MACC, 2*4 + 2 = 10 params.
        var prototxt = temp.WriteText("two.prototxt", """
            name: "two"
            input: "data"
            input_shape { dim: 1 dim: 3 dim: 8 dim: 8 }
            layer { name: "conv1" type: "Convolution" bottom: "data" top: "c1" convolution_param { num_output: 4 kernel_size: 3 pad: 1 } }
            layer { name: "conv2" type: "Convolution" bottom: "c1" top: "c2" convolution_param { num_output: 2 kernel_size: 1 } }
            """);
        var html = HtmlReport.Render(new HtmlReportInput { Model = CostModel.Analyze(ModelFormats.Read(prototxt)) });

        var probe = Drive(html, target: 1);

        AssertZoomPanFit(probe);
        CollectionAssert.AreEqual(new[] { "1" }, probe.Selected);
        StringAssert.StartsWith(probe.Panel, "#1 Convolution conv2");
        StringAssert.Contains(probe.Panel, "512");
        StringAssert.Contains(probe.Panel, "1x2x8x8");
    }

    public static IEnumerable<object[]> Models => ChromiumRenderingTests.Models;

    [TestMethod]
    [DynamicData(nameof(Models))]
    public void Zoom_pan_Fit_and_click_work_on_a_large_graph(string model)
    {
        var report = CostModel.Analyze(ModelFormats.Read(model));
        var target = report.Layers[report.Layers.Count / 2];

        var probe = Drive(HtmlReport.Render(new HtmlReportInput { Model = report }), target.Index);

        AssertZoomPanFit(probe);
        CollectionAssert.AreEqual(new[] { target.Index.ToString(CultureInfo.InvariantCulture) }, probe.Selected);
        StringAssert.StartsWith(probe.Panel, $"#{target.Index} {target.Kind}");
    }

    [GeneratedRegex(@"^translate\(([-0-9.e]+),([-0-9.e]+)\) scale\(([-0-9.e]+)\)$")]
    private static partial Regex TransformPattern();

    [GeneratedRegex("data-probe=\"([^\"]*)\"")]
    private static partial Regex ProbeAttribute();
}
