using Google.Protobuf;
using NeuralBuild.Engine.Execution;
using NeuralBuild.Engine.Formats;
using NeuralBuild.Engine.Ir;
using NeuralBuild.Engine.Pipeline;
using NeuralBuild.Engine.Tests.Support;
using static NeuralBuild.Engine.Tests.Formats.Onnx.OnnxFoldHarness;
using static NeuralBuild.Engine.Tests.Formats.Onnx.TinyOnnx;

namespace NeuralBuild.Engine.Tests.Pipeline;

/// <summary>
/// Another runtime's outputs are compared with the reference executor's by the verifier's rule. The
/// runtimes here are stand-ins that compute with the reference executor under the runtime's own value
/// names (ONNX Runtime itself is exercised by the tool's convert tests): one faithful, one that moves
/// one output channel, one that adds float32-sized noise only.
/// </summary>
[TestClass]
public sealed class VerifyRuntimeTests
{
    private static Model ConvBn(TempDirectory dir)
    {
        var path = dir.Combine("convbn.onnx");
        File.WriteAllBytes(path, Model(13,
            [Node("Conv", "conv", ["x", "w"], ["c"], Ints("kernel_shape", 3, 3)), BatchNorm("bn", "c", "y", "bn")],
            [Random("w", 1, -0.5, 0.5, 4, 3, 3, 3), .. BatchNormParameters("bn", 4, 10)],
            inputDims: [1, 3, 8, 8]).ToByteArray());
        return ModelFormats.Read(path);
    }

    [TestMethod]
    public void A_runtime_computing_the_same_passes_under_its_own_names()
    {
        using var dir = new TempDirectory();
        var model = ConvBn(dir);

        var report = Verifier.VerifyRuntime(model, new Renaming(model, _ => { }), "input:0", [("y", "y:0")], 1e-5, 1e-4);

        Assert.IsTrue(report.Passed, report.Summary());
        Assert.AreEqual(0, report.MaxAbsoluteError);
        Assert.AreEqual("Renaming runtime output 'y:0'", report.Comparisons.Single().Subject);
    }

    [TestMethod]
    public void A_runtime_that_moves_one_channel_fails_even_with_the_rounding_floor()
    {
        using var dir = new TempDirectory();
        var model = ConvBn(dir);

        // Channel 2 of 1x4x6x6 shifted by 0.01: far above float32's rounding of a 27-term sum.
        var report = Verifier.VerifyRuntime(model, new Renaming(model, t => { for (var i = 2 * 36; i < 3 * 36; i++) { t.Data[i] += 0.01f; } }), "input:0", [("y", "y:0")], 1e-5, 1e-4);

        Assert.IsFalse(report.Passed, report.Summary());
        Assert.AreEqual(0.01, report.MaxAbsoluteError, 1e-6);
    }

    [TestMethod]
    public void A_runtime_off_by_one_ulp_passes()
    {
        using var dir = new TempDirectory();
        var model = ConvBn(dir);

        var runtime = new Renaming(model, t => { for (var i = 0; i < t.Data.Length; i++) { t.Data[i] = MathF.BitIncrement(t.Data[i]); } });
        var report = Verifier.VerifyRuntime(model, runtime, "input:0", [("y", "y:0")], 1e-5, 1e-4);

        Assert.IsTrue(report.Passed, report.Summary());
        Assert.IsGreaterThan(0, report.MaxAbsoluteError);
        CollectionAssert.AreEqual(new[] { "run", "unload" }, runtime.Calls);
    }

    [TestMethod]
    public void Over_the_tolerance_the_runtime_lets_go_of_its_weights_before_the_floor_runs_the_reference_executor_again()
    {
        using var dir = new TempDirectory();
        var model = ConvBn(dir);

        // No tolerance at all: one ulp is over it, and only the rounding floor (another run) lets it pass.
        var runtime = new Renaming(model, t => { for (var i = 0; i < t.Data.Length; i++) { t.Data[i] = MathF.BitIncrement(t.Data[i]); } });
        var report = Verifier.VerifyRuntime(model, runtime, "input:0", [("y", "y:0")], 0, 0);

        Assert.IsTrue(report.Passed, report.Summary());
        Assert.IsNotNull(report.Comparisons.Single().RoundingFloor, "the floor's run was needed");
        CollectionAssert.AreEqual(new[] { "run", "unload" }, runtime.Calls);
    }

    /// <summary>Runs the model with the reference executor, calling its input "input:0" and each output "NAME:0", then applies <paramref name="change"/>.</summary>
    private sealed class Renaming(Model model, Action<Tensor> change) : IModelRuntime
    {
        public string Name => "Renaming runtime";

        public List<string> Calls { get; } = [];

        public IReadOnlyDictionary<string, Tensor> Run(IReadOnlyDictionary<string, Tensor> inputs, IReadOnlyList<string> outputs)
        {
            Calls.Add("run");
            var (name, _) = model.Graph.Inputs.First();
            var values = new ReferenceExecutor(model.Graph).Run(new Dictionary<string, Tensor>(StringComparer.Ordinal) { [name] = inputs["input:0"] }, [.. outputs.Select(o => o[..^2])]);
            var result = new Dictionary<string, Tensor>(StringComparer.Ordinal);
            foreach (var output in outputs)
            {
                var copy = new Tensor(values[output[..^2]].Shape, [.. values[output[..^2]].Data]);
                change(copy);
                result[output] = copy;
            }

            return result;
        }

        public void Unload() => Calls.Add("unload");

        public void Dispose()
        {
            // Holds nothing.
        }
    }
}
