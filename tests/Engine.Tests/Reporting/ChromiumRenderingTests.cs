using System.Globalization;
using System.Text.RegularExpressions;
using NeuralBuild.Engine.Analysis;
using NeuralBuild.Engine.Formats;
using NeuralBuild.Engine.Reporting;
using NeuralBuild.Engine.Tests.Support;

namespace NeuralBuild.Engine.Tests.Reporting;

/// <summary>
/// The report opened in headless Chromium, as a person opens it from disk: no console message
/// (an uncaught script error would be one), the graph with one element per layer, the charts, and
/// the side panel the script fills for a selected layer.
/// </summary>
[TestClass]
[TestCategory("Chromium")]
public sealed partial class ChromiumRenderingTests
{
    public static IEnumerable<object[]> Models =>
    [
        [TestPaths.Corpus("yolov3.cfg")],
        [Path.Combine(TestPaths.CaffeCorpus, "resnet50.deploy.prototxt")],
        [Path.Combine(TestPaths.CaffeCorpus, "mobilenet_ssd.deploy.prototxt")],
    ];

    private static (ModelReport Report, string Html) Write(TempDirectory temp, string model)
    {
        var report = CostModel.Analyze(ModelFormats.Read(model));
        var html = temp.WriteText(Path.GetFileName(model) + ".html", HtmlReport.Render(new HtmlReportInput { Model = report }));
        return (report, html);
    }

    [TestMethod]
    [DynamicData(nameof(Models))]
    public void The_report_opens_without_console_messages_with_one_graph_element_per_layer_and_the_charts(string model)
    {
        using var temp = new TempDirectory();
        var (report, html) = Write(temp, model);

        var page = HeadlessChromium.Open(HeadlessChromium.FileUrl(html));

        Assert.IsEmpty(page.ConsoleMessages, string.Join('\n', page.ConsoleMessages));
        var body = BodyTag().Match(page.Dom);
        Assert.IsTrue(body.Success, "no body in the rendered DOM");
        Assert.Contains("data-ready=\"true\"", body.Value, "the script did not run to its end");
        // Counted twice: by the page's own script, and in the DOM Chromium serialised.
        Assert.Contains($"data-layers=\"{report.Layers.Count}\"", body.Value);
        Assert.AreEqual(report.Layers.Count, LayerElement().Count(page.Dom));
        Assert.AreEqual(4, ChartElement().Count(page.Dom));
        Assert.AreEqual(report.Layers.Count * 4, BarElement().Count(page.Dom), "a bar per layer in each chart");
        Assert.IsTrue(ViewportTransform().IsMatch(page.Dom), "the script set the graph's zoom and pan");
    }

    [TestMethod]
    public void A_layer_named_in_the_address_is_selected_and_its_figures_shown_as_text()
    {
        using var temp = new TempDirectory();
        var prototxt = temp.WriteText("evil.prototxt", """
            name: "evil"
            input: "data"
            input_shape { dim: 1 dim: 3 dim: 8 dim: 8 }
            layer { name: "<img src=x onerror=console.log(1)>" type: "Convolution" bottom: "data" top: "c" convolution_param { num_output: 4 kernel_size: 3 pad: 1 } }
            """);
        var (_, html) = Write(temp, prototxt);

        var page = HeadlessChromium.Open(HeadlessChromium.FileUrl(html, "#layer=0"));

        Assert.IsEmpty(page.ConsoleMessages, string.Join('\n', page.ConsoleMessages));
        Assert.DoesNotContain("<img", page.Dom, "the layer's name became an element");
        var panel = DetailsPanel().Match(page.Dom);
        Assert.IsTrue(panel.Success);
        Assert.Contains("#0 Convolution &lt;img src=x onerror=console.log(1)&gt;", panel.Value);
        // 4 outputs of 8x8, 3x3x3 multiply-adds each.
        Assert.Contains((4 * 8 * 8 * 27).ToString("N0", CultureInfo.InvariantCulture), panel.Value);
        Assert.Contains("class=\"layer peak selected\"", page.Dom);
    }

    [TestMethod]
    public void A_page_whose_script_fails_is_caught_by_the_console_check()
    {
        using var temp = new TempDirectory();
        var html = temp.WriteText("broken.html", "<!DOCTYPE html><html><body><script>undefinedFunction();</script></body></html>");

        var page = HeadlessChromium.Open(HeadlessChromium.FileUrl(html));

        Assert.HasCount(1, page.ConsoleMessages);
        Assert.Contains("Uncaught ReferenceError: undefinedFunction is not defined", page.ConsoleMessages[0]);
    }

    [GeneratedRegex("<body[^>]*>")]
    private static partial Regex BodyTag();

    [GeneratedRegex("<g class=\"layer[ \"]")]
    private static partial Regex LayerElement();

    [GeneratedRegex("<svg class=\"chart\"")]
    private static partial Regex ChartElement();

    [GeneratedRegex("<rect class=\"bar\"")]
    private static partial Regex BarElement();

    [GeneratedRegex("<g id=\"viewport\" transform=\"translate\\([-0-9.e]+,[-0-9.e]+\\) scale\\([0-9.e-]+\\)\"")]
    private static partial Regex ViewportTransform();

    [GeneratedRegex("<aside id=\"details\">.*?</aside>", RegexOptions.Singleline)]
    private static partial Regex DetailsPanel();
}
