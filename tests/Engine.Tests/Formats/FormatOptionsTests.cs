using NeuralBuild.Engine.Diagnostics;
using NeuralBuild.Engine.Formats;
using NeuralBuild.Engine.Formats.Darknet;
using NeuralBuild.Engine.Tests.Support;

namespace NeuralBuild.Engine.Tests.Formats;

/// <summary>
/// Format options reach a format as generic name=value pairs (the build and the tool know no
/// format): the format parses its own, spells them back canonically, and refuses the rest (NM0005).
/// </summary>
[TestClass]
public sealed class FormatOptionsTests
{
    private static readonly SourceLocation s_where = new("net.cfg");

    [TestMethod]
    [DataRow("dialect=pjreddie", DarknetDialect.Pjreddie, "Pjreddie")]
    [DataRow("Dialect=ALEXEYAB", DarknetDialect.AlexeyAB, "AlexeyAB")]
    [DataRow("", DarknetDialect.AlexeyAB, "AlexeyAB")]
    public void Darknet_takes_its_dialect(string text, DarknetDialect expected, string canonical)
    {
        var options = new DarknetFormat().WithFormatOptions(new ModelReadOptions(), FormatOptions.Parse([text], s_where), s_where);

        Assert.AreEqual(expected, options.DarknetDialect);
        Assert.AreEqual(canonical, options.FormatOptions["dialect"]);
    }

    [TestMethod]
    [DataRow("dialect=caffe", "is not a Darknet dialect")]
    [DataRow("dialect=1", "is not a Darknet dialect")]
    [DataRow("layout=nhwc", "does not apply: a darknet model takes only dialect")]
    [DataRow("dialect", "is not of the form name=value")]
    [DataRow("dialect=alexeyab;dialect=pjreddie", "is given twice")]
    public void Darknet_refuses_what_it_does_not_take(string text, string message)
    {
        var error = DiagnosticAssert.Throws(DiagnosticCodes.InvalidFormatOption,
            () => new DarknetFormat().WithFormatOptions(new ModelReadOptions(), FormatOptions.Parse([text], s_where), s_where));

        Assert.Contains(message, error.Diagnostic.Message);
    }

    [TestMethod]
    public void Caffe_and_onnx_take_no_options()
    {
        foreach (var format in ModelFormats.All.Where(f => f.Name != "darknet"))
        {
            var error = DiagnosticAssert.Throws(DiagnosticCodes.InvalidFormatOption,
                () => format.WithFormatOptions(new ModelReadOptions(), FormatOptions.Parse(["dialect=pjreddie"], s_where), s_where));
            Assert.Contains("takes no format options", error.Diagnostic.Message);
            Assert.IsEmpty(format.WithFormatOptions(new ModelReadOptions(), FormatOptions.None, s_where).FormatOptions);
        }
    }
}
