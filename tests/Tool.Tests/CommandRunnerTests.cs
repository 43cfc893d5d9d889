using System.Buffers.Binary;
using NeuralBuild.Tool.Tests.Support;

namespace NeuralBuild.Tool.Tests;

/// <summary>
/// Bad input seen from outside: dotnet-neural prints exactly one <c>file(line,col): error NMxxxx:</c>
/// line on stderr, nothing on stdout, no stack trace, and exits with code 1.
/// </summary>
[TestClass]
public sealed class CommandRunnerTests
{
    private const string Net = "[net]\nwidth=32\nheight=32\nchannels=3\n";

    [TestMethod]
    [DataRow(Net + "[convolutional]\nfilters=8\nsize=3x\n", "bad.cfg(7,6): error NM0013: [convolutional] size=3x is not an integer.")]
    [DataRow(Net + "[convolutinal]\nfilters=8\n", "bad.cfg(5,1): error NM0011: [convolutinal] is not a Darknet layer kind")]
    [DataRow(Net + "[convolutional]\nfilters=0\n", "bad.cfg(6,9): error NM0014: [convolutional] filters=0 must be a positive integer.")]
    [DataRow(Net + "[convolutional]\nfilters=8\n[route]\nlayers=-3\n", "bad.cfg(8,8): error NM0015: layer 1 [route] layers=-3 refers to layer -2")]
    [DataRow(Net + "[convolutional]\nfilters=8\n\n[lstm]\noutput=8\n", "bad.cfg(8,1): error NM0016: layer 1 [lstm] is recurrent")]
    [DataRow("width=32\n[net]\n", "bad.cfg(1,1): error NM0010: ")]
    public void A_bad_cfg_prints_one_located_error_line_and_exits_with_1(string cfg, string expectedStart)
    {
        using var temp = new TempDirectory();
        temp.WriteText("bad.cfg", cfg);

        var run = ToolProcess.Run(temp.Path, "inspect", "bad.cfg");

        AssertOneErrorLine(run, expectedStart);
    }

    [TestMethod]
    public void A_missing_model_prints_one_error_line_naming_the_file()
    {
        using var temp = new TempDirectory();

        var run = ToolProcess.Run(temp.Path, "inspect", "absent.cfg");

        AssertOneErrorLine(run, "absent.cfg: error NM0001: ");
    }

    [TestMethod]
    public void Truncated_weights_print_one_error_line_naming_the_weights_file()
    {
        // Conv 8 filters x 3 channels x 1 x 1: 8 biases + 24 weights = 32 floats; the file has 2.
        using var temp = new TempDirectory();
        temp.WriteText("m.cfg", Net + "[convolutional]\nfilters=8\nsize=1\n");
        var bytes = new byte[20 + 8];
        BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(4), 2); // version 0.2.0: 64-bit seen
        var weights = temp.Write("m.weights", bytes);

        var run = ToolProcess.Run(temp.Path, "inspect", "m.cfg", "--weights", "m.weights");

        AssertOneErrorLine(run, $"{weights}: error NM0030: 'm.weights' has 28 bytes but the cfg needs 148 (expected 148, actual 28).");
        Assert.Contains("m.cfg(5,1)", run.Stderr);
    }

    [TestMethod]
    public void An_invalid_input_shape_prints_one_error_line()
    {
        using var temp = new TempDirectory();
        temp.WriteText("m.cfg", Net + "[convolutional]\nfilters=8\n");

        var run = ToolProcess.Run(temp.Path, "inspect", "m.cfg", "--input", "1x3x32");

        AssertOneErrorLine(run, "error NM0003: Input shape '1x3x32' has 3 dimensions");
    }

    internal static void AssertOneErrorLine(ToolRun run, string expectedStart)
    {
        Assert.AreEqual(1, run.ExitCode, run.ToString());
        Assert.AreEqual(string.Empty, run.Stdout, run.ToString());
        Assert.HasCount(1, run.StderrLines, run.ToString());
        Assert.StartsWith(expectedStart, run.StderrLines[0], run.ToString());
        Assert.DoesNotContain("Exception", run.Stderr);
        Assert.DoesNotContain("   at ", run.Stderr);
    }
}
