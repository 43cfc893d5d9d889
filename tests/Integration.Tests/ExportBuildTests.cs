using System.Globalization;
using NeuralBuild.Engine.Execution;
using NeuralBuild.Engine.Formats;
using NeuralBuild.Engine.Ir;

namespace NeuralBuild.Integration.Tests;

/// <summary>
/// <c>Export="onnx"</c> in a real build through the packed package: the build writes and embeds the
/// ONNX export, proves it twice (read back by NeuralBuild; run by the project's own ONNX Runtime in
/// the package's out-of-process check), and the app runs the embedded file with ONNX Runtime. What the
/// app computes is compared here with the reference executor on the original Darknet model.
/// </summary>
[TestClass]
public sealed class ExportBuildTests
{
    private static PackedFeed Feed => PackedFeed.Instance;

    /// <summary>Runs the embedded export on the input x[i] = (i mod 17) / 16 - 0.5 and prints every output value.</summary>
    private const string OnnxRuntimeProgram = """
        using System.Globalization;
        using Microsoft.ML.OnnxRuntime;
        using Microsoft.ML.OnnxRuntime.Tensors;
        using var session = App.NeuralModels.Tiny.CreateSession();
        var (name, meta) = session.InputMetadata.First();
        var input = new DenseTensor<float>(meta.Dimensions);
        for (var i = 0; i < input.Length; i++)
        {
            input.SetValue(i, ((i % 17) / 16f) - 0.5f);
        }

        using var results = session.Run([NamedOnnxValue.CreateFromTensor(name, input)]);
        Console.WriteLine(App.NeuralModels.Tiny.ExportFileName);
        Console.WriteLine(string.Join(' ', results.First().AsTensor<float>().Select(v => v.ToString("R", CultureInfo.InvariantCulture))));
        """;

    [TestMethod]
    public void An_exported_model_is_proven_by_the_projects_onnx_runtime_embedded_and_run_by_the_app()
    {
        var s = new Scenario(Feed, "export");
        s.UseMachinePackages();
        var cfg = s.Model("tiny.cfg", Scenario.TinyCfg);
        s.Project("""
            <NeuralModel Include="tiny.cfg" Export="onnx" />
            <PackageReference Include="Microsoft.ML.OnnxRuntime" Version="1.32.0" />
            """, OnnxRuntimeProgram);

        var build = s.Build();

        Assert.IsTrue(build.Succeeded, build.ToString());
        Assert.IsEmpty(build.Warnings.Where(w => w.Contains("NM2005", StringComparison.Ordinal)), build.ToString());
        var summary = build.Lines.Single(l => l.StartsWith("NeuralBuild: tiny.cfg -> ", StringComparison.Ordinal));
        StringAssert.Matches(summary, new System.Text.RegularExpressions.Regex(@", exported tiny\.onnx \(read back: max abs error [^;]+; ONNX Runtime 1\.32\.0: max abs error [^)]+\)"));
        Assert.IsTrue(File.Exists(s.Neural("Tiny", "tiny.onnx")));

        var run = s.Run("bin/Debug/net10.0/app.dll");
        Assert.AreEqual(0, run.ExitCode, run.Output);
        var lines = run.Output.Trim().Split('\n');
        Assert.AreEqual("tiny.onnx", lines[0].Trim());
        var actual = lines[1].Trim().Split(' ').Select(v => float.Parse(v, CultureInfo.InvariantCulture)).ToArray();

        // The original Darknet model (unfolded) on the same input, by the reference executor.
        var original = ModelFormats.Read(cfg, new ModelReadOptions { WeightsPath = Path.ChangeExtension(cfg, ".weights") });
        var (inputName, shape) = original.Graph.Inputs.First();
        var input = new float[shape.ElementCount];
        for (var i = 0; i < input.Length; i++)
        {
            input[i] = ((i % 17) / 16f) - 0.5f;
        }

        var expected = new ReferenceExecutor(original.Graph).Run(new Dictionary<string, Tensor> { [inputName] = new(shape, input) })[original.Graph.Outputs[0]].Data;
        Assert.HasCount(expected.Length, actual);
        var scale = expected.Max(Math.Abs);
        for (var i = 0; i < expected.Length; i++)
        {
            Assert.AreEqual(expected[i], actual[i], 1e-4 * scale, $"output {i}");
        }

        // Up to date: the export is an output of the incremental step, so a no-op build does nothing.
        var noop = s.Build();
        Assert.IsTrue(noop.Succeeded, noop.ToString());
        Assert.IsTrue(noop.OptimizeSkipped, noop.ToString());
    }

    /// <remarks>
    /// The figures are not predicted here (they are measurements, cross-checked against torch and ONNX
    /// Runtime in the engine's tests): what is checked is that the build budgets them, at the layer the
    /// message names, with the weights figure of the int8 file it embeds.
    /// </remarks>
    [TestMethod]
    public void A_quantized_export_is_budgeted_by_MaxOutputError_at_the_layers_that_contribute_most()
    {
        var (s, cfgText, cfg) = YoloTinyScenario("quantize");
        var csproj = s.Project("""
            <NeuralModel Include="yolov3-tiny.cfg" InputShape="1x3x160x160" Export="onnx" Quantize="int8" MaxOutputError="2%" />
            <PackageReference Include="Microsoft.ML.OnnxRuntime" Version="1.32.0" />
            """, "Console.WriteLine(App.NeuralModels.Yolov3Tiny.ExportFileName);");

        var passed = s.Build();
        Assert.IsTrue(passed.Succeeded, passed.ToString());
        var summary = passed.Lines.Single(l => l.StartsWith("NeuralBuild: yolov3-tiny.cfg -> ", StringComparison.Ordinal));
        StringAssert.Matches(summary, new System.Text.RegularExpressions.Regex(@"exported yolov3-tiny\.onnx \(quantized, read back: max relative error [0-9.]+%; ONNX Runtime 1\.32\.0: max relative error [0-9.]+%\)"));
        var budgets = passed.Lines.Single(l => l.StartsWith("NeuralBuild: yolov3-tiny.cfg: ", StringComparison.Ordinal));
        StringAssert.Matches(budgets, new System.Text.RegularExpressions.Regex(@"^NeuralBuild: yolov3-tiny\.cfg: output error [0-9.]+% of MaxOutputError 2% \([0-9]+%\); report "));

        // The budgeted weights are the int8 file's: every conv of yolov3-tiny has 1,024 weights or more, so
        // each is stored as 1 byte per weight plus 5 per output channel, the biases (BatchNorm folded in)
        // as 4: a quarter of the float bytes (4 per parameter) and a little more.
        var metrics = System.Text.Json.JsonDocument.Parse(File.ReadAllText(s.Neural("Yolov3Tiny", "metrics.json"))).RootElement;
        var totals = metrics.GetProperty("totals");
        var ratio = (double)totals.GetProperty("weightsBytes").GetInt64() / (4 * totals.GetProperty("params").GetInt64());
        Assert.IsTrue(ratio is > 0.25 and < 0.26, $"int8 weights are {ratio:P2} of the float bytes");
        Assert.IsGreaterThan(0.0, metrics.GetProperty("accuracy").GetProperty("outputs")[0].GetProperty("maxRelativeError").GetDouble());

        var propertyLoses = s.Build("-p:NeuralMaxOutputError=0.01%");
        Assert.IsTrue(propertyLoses.OptimizeSkipped, "a budget is checked on the stored measurement: nothing is measured again");
        Assert.AreEqual(0, propertyLoses.ExitCode, "the item's MaxOutputError wins over the property");

        s.Project("""
            <NeuralModel Include="yolov3-tiny.cfg" InputShape="1x3x160x160" Export="onnx" Quantize="int8" MaxOutputError="0.01%" />
            <PackageReference Include="Microsoft.ML.OnnxRuntime" Version="1.32.0" />
            """, "Console.WriteLine(App.NeuralModels.Yolov3Tiny.ExportFileName);");
        _ = OverBudgetAtTheLayersContributingMost(s, s.Build(), cfgText, cfg, csproj, "int8 per channel");
    }

    /// <summary>yolov3-tiny (seeded weights) in a scenario that may reference ONNX Runtime.</summary>
    private static (Scenario S, string CfgText, string Cfg) YoloTinyScenario(string name)
    {
        var s = new Scenario(Feed, name);
        s.UseMachinePackages();
        var cfgText = File.ReadAllText(PackedFeed.YoloTinyCfg);
        return (s, cfgText, s.Model("yolov3-tiny.cfg", cfgText, seed: 42));
    }

    /// <summary>
    /// Asserts that <paramref name="failed"/> is yolov3-tiny's NM1010 over MaxOutputError=0.01% on the stored measurement,
    /// located at the cfg line of the first of the three convolutional layers it names, and returns the error.
    /// </summary>
    private static string OverBudgetAtTheLayersContributingMost(Scenario s, Build failed, string cfgText, string cfg, string csproj, string encoding)
    {
        Assert.AreEqual(1, failed.ExitCode, failed.ToString());
        Assert.IsTrue(failed.OptimizeSkipped, "the same measurement, a tighter budget");
        var error = failed.Errors.Single();
        var named = System.Text.RegularExpressions.Regex.Match(error, @"Layers contributing most \(each quantized alone\): layer (\d+) \[convolutional\] line (\d+): [0-9.]+%; layer \d+ \[convolutional\] line \d+: [0-9.]+%; layer \d+ \[convolutional\] line \d+: [0-9.]+%\.");
        Assert.IsTrue(named.Success, error);
        var first = DarknetByHand.Layers(cfgText).Single(l => l.Index == int.Parse(named.Groups[1].Value, CultureInfo.InvariantCulture));
        Assert.AreEqual(first.Line.ToString(CultureInfo.InvariantCulture), named.Groups[2].Value, "the named line is the layer's line in the cfg");
        Assert.StartsWith($"{cfg}({first.Line},{first.Column}): error NM1010: the quantized export ({encoding}) moves output ", error);
        Assert.Contains("which exceeds MaxOutputError=0.01%.", error);
        Assert.EndsWith($"Per-layer report: {s.Neural("Yolov3Tiny", "report.md")} [{csproj}]", error);
        return error;
    }

    /// <summary>Runs the embedded yolov3-tiny export on a mid-grey input and prints how many output values it gave and how many were finite.</summary>
    private const string Yolov3TinyProgram = """
        using Microsoft.ML.OnnxRuntime;
        using Microsoft.ML.OnnxRuntime.Tensors;
        using var session = App.NeuralModels.Yolov3Tiny.CreateSession();
        var (name, meta) = session.InputMetadata.First();
        var input = new DenseTensor<float>(meta.Dimensions);
        input.Fill(0.5f);
        using var results = session.Run([NamedOnnxValue.CreateFromTensor(name, input)]);
        var values = results.SelectMany(r => r.AsTensor<float>()).ToList();
        Console.WriteLine($"{values.Count} {values.Count(float.IsFinite)}");
        """;

    /// <remarks>
    /// int8-static in the build: calibrated on the project's <c>EvaluationInputs</c> (two .npy tensors written
    /// here), measured, budgeted like int8, and each layer's contribution holds its rounded activations: layer 0,
    /// whose 432 weights stay float, contributes through its input and output alone.
    /// </remarks>
    [TestMethod]
    public void A_calibrated_export_is_budgeted_by_MaxOutputError_with_each_layers_activations_in_its_contribution()
    {
        var (s, cfgText, cfg) = YoloTinyScenario("quantize-static");
        Directory.CreateDirectory(s.Path_("calibration"));
        for (var file = 0; file < 2; file++)
        {
            File.WriteAllBytes(s.Path_("calibration", $"input{file}.npy"), Npy([1, 3, 160, 160], i => ((i * (7 + file)) % 101) / 100f));
        }

        string Items(string budget) => $"""
            <NeuralModel Include="yolov3-tiny.cfg" InputShape="1x3x160x160" Export="onnx" Quantize="int8-static" EvaluationInputs="calibration" MaxOutputError="{budget}" />
            <PackageReference Include="Microsoft.ML.OnnxRuntime" Version="1.32.0" />
            """;
        s.Project(Items("50%"), Yolov3TinyProgram);

        var passed = s.Build();
        Assert.IsTrue(passed.Succeeded, passed.ToString());
        var run = s.Run("bin/Debug/net10.0/app.dll");
        Assert.AreEqual(0, run.ExitCode, run.Output);
        var counts = run.Output.Trim().Split(' ');
        // Two yolo heads at 160x160: 3 anchors x 85 values over 5x5 and 10x10 cells.
        Assert.AreEqual($"{255 * (25 + 100)} {255 * (25 + 100)}", $"{counts[0]} {counts[1]}", "every output value computed and finite");
        var metrics = System.Text.Json.JsonDocument.Parse(File.ReadAllText(s.Neural("Yolov3Tiny", "metrics.json"))).RootElement;
        Assert.AreEqual("int8 per channel, uint8 activations (calibrated)", metrics.GetProperty("accuracy").GetProperty("encoding").GetString());
        var layer0 = metrics.GetProperty("layers").EnumerateArray().Single(l => l.GetProperty("index").GetInt32() == 0);
        Assert.IsGreaterThan(0.0, layer0.GetProperty("outputError").GetDouble(), "layer 0's weights stay float: its contribution is its activations'");

        var csproj = s.Project(Items("0.01%"), Yolov3TinyProgram);
        var error = OverBudgetAtTheLayersContributingMost(s, s.Build(), cfgText, cfg, csproj, "int8 per channel, uint8 activations (calibrated)");

        var again = s.Build();
        Assert.AreEqual(1, again.ExitCode, "a failed build fails again when rerun unchanged");
        Assert.AreEqual(error, again.Errors.Single());
    }

    /// <summary>A little-endian float32 .npy (format 1.0) of <paramref name="shape"/>, element i being <paramref name="value"/>(i).</summary>
    private static byte[] Npy(int[] shape, Func<int, float> value)
    {
        var header = $"{{'descr': '<f4', 'fortran_order': False, 'shape': ({string.Join(", ", shape)}), }}";
        header = header.PadRight(((header.Length + 11 + 63) / 64 * 64) - 11) + "\n";
        var count = shape.Aggregate(1, (a, b) => a * b);
        using var stream = new MemoryStream();
        using var writer = new BinaryWriter(stream);
        writer.Write([0x93, .. "NUMPY"u8, 1, 0]);
        writer.Write((ushort)header.Length);
        writer.Write(System.Text.Encoding.ASCII.GetBytes(header));
        for (var i = 0; i < count; i++)
        {
            writer.Write(value(i));
        }

        writer.Flush();
        return stream.ToArray();
    }

    [TestMethod]
    public void Without_the_runtime_package_the_export_is_still_read_back_and_the_build_warns_NM2005()
    {
        var s = new Scenario(Feed, "export-noruntime");
        var cfg = s.Model("tiny.cfg", Scenario.TinyCfg);
        s.Project("<NeuralModel Include=\"tiny.cfg\" Export=\"onnx\" />", "Console.WriteLine(App.NeuralModels.Tiny.ExportName);");

        var build = s.Build();

        Assert.IsTrue(build.Succeeded, build.ToString());
        Assert.StartsWith($"{cfg} : warning NM2005: 'tiny.onnx' was checked by reading it back, but not run in its runtime: no native library for the ONNX runtime among the project's packages.", build.Warnings.Single());
        Assert.AreEqual("NeuralModels/Tiny/tiny.onnx", s.Run("bin/Debug/net10.0/app.dll").Output.Trim());
    }

    [TestMethod]
    public void An_export_target_that_does_not_exist_fails_at_the_project()
    {
        var s = new Scenario(Feed, "export-unknown");
        s.Model("tiny.cfg", Scenario.TinyCfg);
        var csproj = s.Project("<NeuralModel Include=\"tiny.cfg\" Export=\"tflite\" />", "Console.WriteLine();");

        var build = s.Build();

        Assert.AreEqual(1, build.ExitCode, build.ToString());
        Assert.StartsWith($"{csproj} : error NM0066: NeuralModel 'tiny.cfg' Export='tflite': 'tflite' is not a format NeuralBuild exports to; export targets: onnx.", build.Errors.Single());
    }
}
