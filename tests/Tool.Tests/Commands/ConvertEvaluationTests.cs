using NeuralBuild.Engine.Tests.Evaluation;
using NeuralBuild.Tool.Tests.Support;

namespace NeuralBuild.Tool.Tests.Commands;

/// <summary>
/// <c>convert --quantize int8 --inputs DIR --min-top1-agreement P</c> in its own process, on a classifier
/// built so that its top-1 class is known by hand on every input, before and after quantization.
/// </summary>
[TestClass]
public sealed class ConvertEvaluationTests
{
    private const string Cfg = """
        [net]
        width=8
        height=8
        channels=3

        [convolutional]
        filters=128
        size=3
        stride=1
        pad=1
        activation=leaky

        [convolutional]
        filters=10
        size=1
        stride=1
        pad=0
        activation=linear

        [avgpool]

        [softmax]
        """;

    /// <summary>
    /// The weights (numpy writes them, Darknet's layout: header, then per layer biases and weights) and
    /// the inputs: six .npy tensors (float32 with and without the batch dimension, one float64) and one PNG.
    /// Both convs have at least 1024 weights, so both are quantized. Feature 0 of the first conv is 1
    /// plus at most 27 x 0.01 x 1: positive on every input. Classes 0 and 1 have bias 5 and the same
    /// weights except on feature 0, where class 1 has 1e-4 more: the original's top-1 is class 1 on
    /// every input (by 1e-4 x feature 0 &gt; 0), and the other classes (bias 0, weights of 0.01) stay far
    /// below. Quantized per channel to int8, both rows have the same range [-0.3, 0.4], and 0 and 1e-4
    /// round to the same step (1e-4 is 4% of a step of 0.7 / 255): the rows become equal, classes 0 and
    /// 1 tie, and the top-1 is class 0: top-1 agreement 0 of 7, top-5 agreement 7 of 7.
    /// </summary>
    private static void WriteModelAndInputs(string directory)
    {
        File.WriteAllText(Path.Combine(directory, "cls.cfg"), Cfg);
        PythonScript.Run(directory, """
            import numpy as np, struct, os
            from PIL import Image
            rng = np.random.default_rng(11)
            with open('cls.weights', 'wb') as f:
                f.write(struct.pack('<iiiq', 0, 2, 0, 0))
                b1 = np.zeros(128, '<f4'); b1[0] = 1
                w1 = rng.normal(0, 0.1, (128, 3, 3, 3)).astype('<f4')
                w1[0] = rng.uniform(-0.01, 0.01, (3, 3, 3))
                f.write(b1.tobytes()); f.write(w1.tobytes())
                b2 = np.zeros(10, '<f4'); b2[0] = b2[1] = 5
                w2 = rng.normal(0, 0.01, (10, 128)).astype('<f4')
                w2[0] = np.concatenate([[0, -0.3, 0.4], rng.uniform(-0.05, 0.05, 125)])
                w2[1] = w2[0]
                w2[1, 0] = 1e-4
                f.write(b2.tobytes()); f.write(w2.tobytes())
            os.mkdir('inputs')
            for i in range(4):
                np.save(f'inputs/in{i}.npy', rng.uniform(-1, 1, (1, 3, 8, 8)).astype('<f4'))
            np.save('inputs/unbatched.npy', rng.uniform(-1, 1, (3, 8, 8)).astype('<f4'))
            np.save('inputs/wide.npy', rng.uniform(-1, 1, (1, 3, 8, 8)).astype('<f8'))
            Image.fromarray(rng.integers(0, 256, (8, 8, 3), dtype=np.uint8)).save('inputs/photo.png')
            open('inputs/README.txt', 'w').write('not an input')
            """);
    }

    [TestMethod]
    public void Top1_agreement_is_measured_on_the_inputs_and_a_budget_above_it_fails_with_NM1011_exit_2()
    {
        using var temp = new TempDirectory();
        WriteModelAndInputs(temp.Path);

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
        WriteModelAndInputs(temp.Path);
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
