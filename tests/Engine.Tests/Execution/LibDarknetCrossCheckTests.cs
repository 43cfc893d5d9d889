using System.Globalization;
using NeuralBuild.Engine.Execution;
using NeuralBuild.Engine.Formats.Darknet;
using NeuralBuild.Engine.Ir;

namespace NeuralBuild.Engine.Tests.Execution;

/// <summary>
/// The reference executor against libdarknet itself (Debian's pjreddie build, 2018-09): the same
/// cfg, synthetic weights and input go through darknet's network_predict (darknet-harness.c) and
/// through the executor in the pjreddie dialect, and every output must satisfy
/// <c>|ours - darknet| &lt;= atol + rtol*|darknet|</c>. The errors observed are written to the test log.
/// </summary>
[TestClass]
[DoNotParallelize]
public sealed class LibDarknetCrossCheckTests
{
    /// <summary>
    /// Whole models: up to ~100 layers of float32 sums in a different order than darknet's gemm,
    /// with 2% of the BatchNorm channels at near-zero variance (where 1/sqrt(var) magnifies every
    /// rounding difference). Observed worst |a-b|/(atol+rtol|b|): 0.58 (yolov2-tiny, max |a-b|
    /// 1.8e-4 on values up to ~5); without near-zero variances the same models stay within 0.3 of
    /// half this bound.
    /// </summary>
    private const double ModelAtol = 1e-4;
    private const double ModelRtol = 1e-3;

    /// <summary>The layer zoos are shallow: every layer is held to a 10x tighter bound (observed worst: 0.06 of it).</summary>
    private const double ZooAtol = 1e-5;
    private const double ZooRtol = 1e-4;

    public TestContext TestContext { get; set; } = null!;

    [TestMethod]
    [DataRow("yolov3-tiny")]
    [DataRow("yolov2-tiny")]
    [DataRow("yolov3")]
    [DataRow("resnet18")]
    [DataRow("resnet50")]
    public void Debian_model_matches_libdarknet(string name)
    {
        var cfg = Path.Combine(TestPaths.DebianDarknetCfg, name + ".cfg");
        using var work = new WorkDirectory(name);
        var model = DarknetTestModel.Create(cfg, work.Path, seed: 20240611);
        var layers = ((DarknetModel)model.Open(DarknetDialect.Pjreddie).SourceDocument!).Layers;

        // For a classifier also compare the logits: the softmax of synthetic weights is nearly flat.
        var last = LastNonCost(layers);
        var extra = layers[last].Section.Type is "softmax" or "soft" ? (last - 1).ToString(CultureInfo.InvariantCulture) : null;
        var darknet = DarknetHarness.Run(cfg, model.Weights, model.Input, work.Path, extra);
        var errors = Compare(name, model, darknet, model.InputShape, ModelAtol, ModelRtol);
        Assert.IsTrue(errors.All(e => e.Violations == 0), $"{name}: outputs differ from libdarknet beyond atol={ModelAtol}, rtol={ModelRtol} (see the log).");
    }

    [TestMethod]
    [DataRow("zoo-vision.cfg", 1f, 0f)]
    [DataRow("zoo-heads.cfg", 1f, 0f)]
    [DataRow("zoo-activations.cfg", 8f, -4f)]
    public void Layer_zoo_matches_libdarknet_layer_by_layer(string file, float inputScale, float inputOffset)
    {
        var cfg = Path.Combine(TestPaths.RepoRoot, "tests", "Engine.Tests", "Execution", "Zoo", file);
        using var work = new WorkDirectory(file);
        var model = DarknetTestModel.Create(cfg, work.Path, seed: 7, inputScale: inputScale, inputOffset: inputOffset);
        var darknet = DarknetHarness.Run(cfg, model.Weights, model.Input, work.Path, "all");
        var errors = Compare(file, model, darknet, model.InputShape, ZooAtol, ZooRtol);
        Assert.IsTrue(errors.All(e => e.Violations == 0), $"{file}: layers differ from libdarknet beyond atol={ZooAtol}, rtol={ZooRtol} (see the log).");
    }

    [TestMethod]
    public void Batchnorm_arithmetic_is_the_dialects()
    {
        // 30% of the channels get variances between 1e-6 and 1e-3, where pjreddie's
        // sqrt(var) + 1e-6 and AlexeyAB's sqrt(var + 1e-5) differ by up to 40%.
        var cfg = Path.Combine(TestPaths.RepoRoot, "tests", "Engine.Tests", "Execution", "Zoo", "zoo-batchnorm.cfg");
        using var work = new WorkDirectory("batchnorm");
        var model = DarknetTestModel.Create(cfg, work.Path, seed: 11, nearZeroVariance: 0.3);
        var darknet = DarknetHarness.Run(cfg, model.Weights, model.Input, work.Path, "all");

        var pjreddie = Compare("pjreddie dialect", model, darknet, model.InputShape, ZooAtol, ZooRtol);
        Assert.IsTrue(pjreddie.All(e => e.Violations == 0), "The pjreddie dialect must reproduce libdarknet's BatchNorm.");

        var alexeyAB = Compare("AlexeyAB dialect (expected to differ)", model, darknet, model.InputShape, ZooAtol, ZooRtol, DarknetDialect.AlexeyAB);
        Assert.IsGreaterThan(100.0, alexeyAB[0].WorstRatio, "With near-zero variances the AlexeyAB arithmetic must visibly differ from pjreddie's libdarknet.");
    }

    [TestMethod]
    public void A_smaller_input_runs_like_darknet_configured_at_that_size()
    {
        // The executor re-infers shapes for a 320x320 input to the 416x416 graph; darknet gets a
        // copy of the cfg declaring 320x320.
        using var work = new WorkDirectory("resize");
        var original = Path.Combine(TestPaths.DebianDarknetCfg, "yolov3-tiny.cfg");
        var model = DarknetTestModel.Create(original, work.Path, seed: 5);
        var resized = Path.Combine(work.Path, "yolov3-tiny-320.cfg");
        File.WriteAllLines(resized, File.ReadAllLines(original).Select(l => l.StartsWith("width=", StringComparison.Ordinal) ? "width=320" : l.StartsWith("height=", StringComparison.Ordinal) ? "height=320" : l));
        var shape = Shape.Nchw(1, 3, 320, 320);
        var input = model.Input[..(int)shape.ElementCount];
        var darknet = DarknetHarness.Run(resized, model.Weights, input, work.Path);
        var errors = Compare("yolov3-tiny at 320", model, darknet, shape, ModelAtol, ModelRtol, input: input);
        Assert.IsTrue(errors.All(e => e.Violations == 0), "yolov3-tiny at 320x320 differs from libdarknet (see the log).");
    }

    private List<OutputError> Compare(string label, DarknetTestModel model, Dictionary<int, float[]> darknet, Shape inputShape, double atol, double rtol, DarknetDialect dialect = DarknetDialect.Pjreddie, float[]? input = null)
    {
        var opened = model.Open(dialect);
        var layers = ((DarknetModel)opened.SourceDocument!).Layers;

        // [cost] never runs at inference in darknet (its output stays zero); nothing reads it.
        var compared = darknet.Keys.Where(i => layers[i].Section.Type != "cost").Order().ToList();
        var outputs = compared.Select(i => layers[i].Output).Distinct().ToList();
        var executor = new ReferenceExecutor(opened.Graph);
        var ours = executor.Run(new Dictionary<string, Tensor> { [opened.Graph.Inputs.Keys.Single()] = new Tensor(inputShape, input ?? model.Input) }, outputs);

        var errors = new List<OutputError>();
        foreach (var index in compared)
        {
            var expected = darknet[index];
            var actual = ours[layers[index].Output].Data;
            Assert.HasCount(expected.Length, actual, $"{label}: layer {index} [{layers[index].Section.Type}] size");
            var error = OutputError.Measure(index, layers[index].Section.Type, actual, expected, atol, rtol);
            errors.Add(error);
            TestContext.WriteLine($"{label}: {error}");
        }

        return errors;
    }

    private static int LastNonCost(IReadOnlyList<DarknetLayer> layers)
    {
        var index = layers.Count - 1;
        while (index > 0 && layers[index].Section.Type == "cost")
        {
            index--;
        }

        return index;
    }

    /// <summary>How far one output is from darknet's.</summary>
    private sealed record OutputError(int Layer, string Kind, int Count, double MaxAbs, double MaxRel, double WorstRatio, int Violations)
    {
        /// <summary>Relative errors are reported where |darknet| ≥ this; below it the absolute error is the meaningful one.</summary>
        private const double RelativeFloor = 1e-2;

        public static OutputError Measure(int layer, string kind, float[] ours, float[] darknet, double atol, double rtol)
        {
            double maxAbs = 0, maxRel = 0, worst = 0;
            var violations = 0;
            for (var i = 0; i < darknet.Length; i++)
            {
                double a = ours[i], b = darknet[i];
                var diff = Math.Abs(a - b);
                if (double.IsNaN(diff))
                {
                    diff = double.IsNaN(a) && double.IsNaN(b) ? 0 : double.PositiveInfinity;
                }

                maxAbs = Math.Max(maxAbs, diff);
                if (Math.Abs(b) >= RelativeFloor)
                {
                    maxRel = Math.Max(maxRel, diff / Math.Abs(b));
                }

                var ratio = diff / (atol + (rtol * Math.Abs(b)));
                worst = Math.Max(worst, ratio);
                violations += ratio > 1 ? 1 : 0;
            }

            return new OutputError(layer, kind, darknet.Length, maxAbs, maxRel, worst, violations);
        }

        public override string ToString() => string.Create(CultureInfo.InvariantCulture,
            $"layer {Layer,3} [{Kind}] {Count} values: max |a-b| {MaxAbs:0.00e+00}, max |a-b|/|b| {MaxRel:0.00e+00} (|b| >= {RelativeFloor}), worst |a-b|/(atol+rtol|b|) {WorstRatio:0.000}, violations {Violations}");
    }

    /// <summary>A scratch directory for one test's weights and I/O files, removed afterwards (weights reach 250 MB).</summary>
    private sealed class WorkDirectory : IDisposable
    {
        public WorkDirectory(string name)
        {
            Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), $"neuralbuild-crosscheck-{Environment.ProcessId}", name);
            Directory.CreateDirectory(Path);
        }

        public string Path { get; }

        public void Dispose()
        {
            try
            {
                Directory.Delete(Path, recursive: true);
            }
            catch (IOException)
            {
                // Best effort: a leftover temp directory must not fail the test.
            }
        }
    }
}
