using NeuralBuild.Engine.Tests.Evaluation;
using NeuralBuild.Tool.Tests.Support;

namespace NeuralBuild.Tool.Tests.Commands;

/// <summary>
/// <c>convert --quantize int8 --inputs DIR --min-top1-agreement P</c> in its own process, on a classifier
/// built so that its top-1 class is known by hand on every input, before and after quantization
/// (<see cref="TieClassifier"/>: top-1 agreement 0 of 7, top-5 agreement 7 of 7).
/// </summary>
[TestClass]
public sealed class ConvertEvaluationTests
{
    [TestMethod]
    public void Top1_agreement_is_measured_on_the_inputs_and_a_budget_above_it_fails_with_NM1011_exit_2()
    {
        using var temp = new TempDirectory();
        TieClassifier.Write(temp.Path);

        var failing = ToolProcess.Run(temp.Path, ["convert", "cls.cfg", "--to", "onnx", "-o", "out", "--quantize", "int8", "--inputs", "inputs", "--min-top1-agreement", "99%"]);

        Assert.AreEqual(2, failing.ExitCode, failing.ToString());
        StringAssert.Contains(failing.Stderr, "error NM1011: the quantized export keeps the original's top-1 class on fewer items than MinTop1Agreement=99%");
        StringAssert.Contains(failing.Stderr, "top-1 agreement 0%, top-5 agreement 100% (over 7 inputs, 7 items)");
        StringAssert.Contains(failing.Stderr, "(1 other file(s) skipped)");
        Assert.IsFalse(File.Exists(Path.Combine(temp.Path, "out", "cls.onnx")), "nothing is written under the budget");

        var passing = ToolProcess.Run(temp.Path, ["convert", "cls.cfg", "--to", "onnx", "-o", "out", "--quantize", "int8", "--inputs", "inputs", "--min-top1-agreement", "0%"]);

        Assert.AreEqual(0, passing.ExitCode, passing.ToString());
        StringAssert.Contains(passing.Stdout, "- written file read back: measured (lossy export, error relative to max|output|) on 7 input file(s)");
        StringAssert.Contains(passing.Stdout, "at least MinTop1Agreement=0%");
        // ONNX Runtime sees the same tie: its top-1 is class 0 too.
        StringAssert.Matches(passing.Stdout, new System.Text.RegularExpressions.Regex(@"- runtime: measured \(lossy export[^\n]* on 7 input file\(s\)[^\n]*ONNX Runtime[^\n]*top-1 agreement 0%, top-5 agreement 100% \(over 7 inputs, 7 items\)"));
        Assert.IsTrue(File.Exists(Path.Combine(temp.Path, "out", "cls.onnx")));
    }

    [TestMethod]
    public void Bad_inputs_are_coded_errors_without_a_stack_trace()
    {
        using var temp = new TempDirectory();
        TieClassifier.Write(temp.Path);
        File.WriteAllBytes(Path.Combine(temp.Path, "cut.npy"), File.ReadAllBytes(Path.Combine(temp.Path, "inputs", "in0.npy"))[..100]);
        PythonScript.Run(temp.Path, "import numpy as np; np.save('small.npy', np.zeros((1, 3, 4, 4), dtype='<f4'))");

        string[] quantize = ["convert", "cls.cfg", "--to", "onnx", "-o", "out", "--quantize", "int8"];
        var cut = ToolProcess.Run(temp.Path, [.. quantize, "--inputs", "cut.npy"]);
        var small = ToolProcess.Run(temp.Path, [.. quantize, "--inputs", "small.npy"]);
        var order = ToolProcess.Run(temp.Path, [.. quantize, "--inputs", "inputs", "--channel-order", "rbg"]);
        var budget = ToolProcess.Run(temp.Path, [.. quantize, "--min-top1-agreement", "99"]);

        foreach (var (run, code) in new[] { (cut, "NM0375"), (small, "NM0378"), (order, "NM0379"), (budget, "NM0379") })
        {
            Assert.AreEqual(1, run.ExitCode, run.ToString());
            StringAssert.Contains(run.Stderr, $"error {code}");
            Assert.DoesNotContain("   at ", run.Stderr, "no stack trace");
        }

        StringAssert.Contains(small.Stderr, "small.npy: error NM0378: the tensor's shape 1x3x4x4 is not the model's input 1x3x8x8.");
    }
}
