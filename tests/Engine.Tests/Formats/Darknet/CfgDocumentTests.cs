using NeuralBuild.Engine.Diagnostics;
using NeuralBuild.Engine.Formats.Darknet;
using NeuralBuild.Engine.Tests.Support;

namespace NeuralBuild.Engine.Tests.Formats.Darknet;

/// <summary>Parsing cfg text: what counts as a section, an option and a comment, and where each one is.</summary>
[TestClass]
public sealed class CfgDocumentTests
{
    [TestMethod]
    public void Options_keep_their_line_and_the_column_of_their_value()
    {
        const string text = "# yolo\n[net]\nwidth = 416 # trailing comment\n  height=32\n\n; other comment\n[convolutional]\nfilters=16\n";

        var document = CfgDocument.Parse("m.cfg", text);

        Assert.HasCount(2, document.Sections);
        var net = document.Sections[0];
        Assert.AreEqual("net", net.Type);
        Assert.AreEqual(new SourceLocation("m.cfg", 2, 1), net.Location);

        // "width = 416": w is column 1, the value's '4' column 9; darknet's atoi stops at '#', so do we.
        var width = net.Find("width")!;
        Assert.AreEqual("416", width.Value);
        Assert.AreEqual(new SourceLocation("m.cfg", 3, 9), width.Location);
        Assert.AreEqual(new SourceLocation("m.cfg", 4, 10), net.Find("height")!.Location);
        Assert.AreEqual(new SourceLocation("m.cfg", 7, 1), document.Sections[1].Location);

        // Every line is kept verbatim, comments included, so a writer can change one value in place.
        Assert.HasCount(8, document.Lines);
        Assert.AreEqual("width = 416 # trailing comment", document.Lines[2]);
    }

    [TestMethod]
    public void Windows_line_endings_give_the_same_lines_and_values()
    {
        var document = CfgDocument.Parse("m.cfg", "[net]\r\nwidth=416\r\n[maxpool]\r\nsize=2\r\n");

        Assert.AreEqual("416", document.Sections[0].Find("width")!.Value);
        Assert.AreEqual(new SourceLocation("m.cfg", 4, 6), document.Sections[1].Find("size")!.Location);
        Assert.AreEqual("[maxpool]", document.Lines[2]);
    }

    [TestMethod]
    public void Darknet_returns_the_first_of_repeated_options_and_so_do_we()
    {
        var section = CfgDocument.Parse("m.cfg", "[net]\nwidth=416\nwidth=608\n").Sections[0];

        Assert.AreEqual(416L, section.Int("width", 0));
    }

    [TestMethod]
    public void An_option_before_any_section_is_a_missing_net()
    {
        var error = DiagnosticAssert.Throws(DiagnosticCodes.CfgMissingNet, () => CfgDocument.Parse(DarknetCfg.FileName, "# comment\n  width=416\n[net]\nheight=416\n"));

        DiagnosticAssert.At(error, 2, 3);
        Assert.Contains("width=416", error.Diagnostic.Message);
        Assert.Contains("[net]", error.Diagnostic.Message);
    }

    [TestMethod]
    public void A_section_header_without_its_closing_bracket_is_malformed()
    {
        var error = DiagnosticAssert.Throws(DiagnosticCodes.CfgSyntax, () => CfgDocument.Parse(DarknetCfg.FileName, "[net]\nwidth=416\n [convolutional\nfilters=16\n"));

        DiagnosticAssert.At(error, 3, 2);
        Assert.Contains("'[convolutional'", error.Diagnostic.Message);
    }

    [TestMethod]
    public void A_line_that_is_neither_section_nor_option_is_malformed()
    {
        var error = DiagnosticAssert.Throws(DiagnosticCodes.CfgSyntax, () => CfgDocument.Parse(DarknetCfg.FileName, "[net]\nwidth=416\n\n   filters 16\n"));

        DiagnosticAssert.At(error, 4, 4);
        Assert.Contains("'filters 16'", error.Diagnostic.Message);
    }

    [TestMethod]
    public void A_missing_file_is_file_not_found()
    {
        var path = Path.Combine(Path.GetTempPath(), $"neuralbuild-absent-{Guid.NewGuid():N}.cfg");

        var error = DiagnosticAssert.Throws(DiagnosticCodes.FileNotFound, () => CfgDocument.Load(path));

        Assert.AreEqual(path, error.Location.File);
        Assert.IsFalse(error.Location.HasLine);
    }
}
