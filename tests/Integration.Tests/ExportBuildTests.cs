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
