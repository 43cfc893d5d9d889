using System.Reflection.Metadata;
using System.Reflection.PortableExecutable;
using System.Text.Json;

namespace NeuralBuild.Integration.Tests;

/// <summary>
/// The real thing: NeuralBuild packed into a local feed, consumed by projects in temporary folders,
/// built with the real <c>dotnet build</c>.
/// </summary>
[TestClass]
public sealed class BuildTests
{
    private static PackedFeed Feed => PackedFeed.Instance;

    private static string Program(params string[] classNames) =>
        Scenario.ReportingProgram.Replace("MODELS", string.Join(", ", classNames.Select(c => $"(\"{c}\", NeuralModels.{c}.Macc, NeuralModels.{c}.OpenDefinition)")), StringComparison.Ordinal);

    private static long MetricsMacc(string metricsFile) =>
        JsonDocument.Parse(File.ReadAllText(metricsFile)).RootElement.GetProperty("totals").GetProperty("macc").GetInt64();

    [TestMethod]
    public void Design_time_then_clean_build_then_no_op_then_model_change_then_setting_change_then_clean()
    {
        var s = new Scenario(Feed, "lifecycle");
        var cfg = s.Model("tiny.cfg", Scenario.TinyCfg);
        s.Project("<NeuralModel Include=\"tiny.cfg\" />", Program("Tiny"));

        // A design-time build (what an IDE runs) sees the accessor but optimises nothing.
        var designTime = s.Dotnet("msbuild -restore -t:Compile -p:DesignTimeBuild=true -p:SkipCompilerExecution=true -p:ProvideCommandLineArgs=true -nologo -v:m");
        Assert.AreEqual(0, designTime.ExitCode, designTime.Output);
        Assert.IsTrue(File.Exists(s.NeuralPerFramework("NeuralModels.g.cs")));
        Assert.IsFalse(File.Exists(s.Neural("Tiny", "metrics.json")), "a design-time build does no heavy work");

        var first = s.Build();
        Assert.IsTrue(first.Succeeded, first.ToString());
        Assert.IsTrue(first.OptimizeRan, "first build optimises");
        var metrics = s.Neural("Tiny", "metrics.json");
        Assert.AreEqual(221_184L + 294_912L, MetricsMacc(metrics));
        var run = s.Run("bin/Debug/net10.0/app.dll");
        Assert.AreEqual($"Tiny macc=516096 definitionBytes={new FileInfo(s.Neural("Tiny", "tiny.cfg")).Length}", run.Output.Trim());

        var stamp = File.GetLastWriteTimeUtc(metrics);
        var report = s.Neural("Tiny", "report.md");
        var reportStamp = File.GetLastWriteTimeUtc(report);
        var html = s.Neural("Tiny", "report.html");
        var htmlStamp = File.GetLastWriteTimeUtc(html);
        StringAssert.Contains(File.ReadAllText(html), "<svg", "the HTML report draws the graph");
        Assert.Contains("no budget set; report " + report, first.Output, "the summary names the report and says no budget is set");
        var dllStamp = File.GetLastWriteTimeUtc(s.Path_("bin", "Debug", "net10.0", "app.dll"));
        var noop = s.Build();
        Assert.IsTrue(noop.Succeeded, noop.ToString());
        Assert.IsTrue(noop.OptimizeSkipped, "no-op build skips the optimise target");
        Assert.IsFalse(noop.OptimizeRan);
        Assert.Contains("Skipping target \"CoreCompile\" because all output files are up-to-date", noop.DetailedLog);
        Assert.AreEqual(stamp, File.GetLastWriteTimeUtc(metrics));
        Assert.AreEqual(reportStamp, File.GetLastWriteTimeUtc(report), "a no-op build leaves the report untouched");
        Assert.AreEqual(htmlStamp, File.GetLastWriteTimeUtc(html), "and the HTML report");
        Assert.AreEqual(dllStamp, File.GetLastWriteTimeUtc(s.Path_("bin", "Debug", "net10.0", "app.dll")));

        // Wider second conv: 3*3*8*16*16*32 = 589,824; with the first conv, 811,008.
        File.WriteAllText(cfg, Scenario.TinyCfg.Replace("filters=16", "filters=32", StringComparison.Ordinal));
        Scenario.Touch(cfg);
        DarknetWeights(s, cfg);
        var changed = s.Build();
        Assert.IsTrue(changed.Succeeded, changed.ToString());
        Assert.IsTrue(changed.OptimizeRan, "a changed model is optimised again");
        Assert.AreEqual(811_008L, MetricsMacc(metrics));
        Assert.StartsWith("Tiny macc=811008 ", s.Run("bin/Debug/net10.0/app.dll").Output.Trim());

        // A setting that changes the optimised output (InputShape) re-optimises through the settings stamp;
        // the stamp is written only when it changes, so the build after that is a no-op again.
        s.Project("<NeuralModel Include=\"tiny.cfg\" InputShape=\"1x3x64x64\" />", Program("Tiny"));
        var reshaped = s.Build();
        Assert.IsTrue(reshaped.Succeeded, reshaped.ToString());
        Assert.IsTrue(reshaped.OptimizeRan, "a changed setting is optimised again");
        Assert.AreEqual((3L * 3 * 3 * 64 * 64 * 8) + (3L * 3 * 8 * 32 * 32 * 32), MetricsMacc(metrics));
        Assert.IsTrue(s.Build().OptimizeSkipped, "and the next build is a no-op again");

        var clean = s.Dotnet("clean -nologo -v:m");
        Assert.AreEqual(0, clean.ExitCode, clean.Output);
        Assert.IsFalse(Directory.Exists(s.Neural()), "dotnet clean removes every NeuralBuild output");
        Assert.IsFalse(Directory.Exists(s.NeuralPerFramework()), "and the accessor's folder");
        Assert.IsFalse(File.Exists(s.Path_("bin", "Debug", "net10.0", "app.dll")));
    }

    [TestMethod]
    public void PruneDeadChannels_metadata_prunes_a_dead_channel_in_the_build_and_turning_it_off_optimises_again()
    {
        var s = new Scenario(Feed, "prune");
        var cfg = s.Model("tiny.cfg", Scenario.TinyCfg);
        // Layer 0's BatchNorm: 8 biases (beta) then 8 scales (gamma) right after the header; channel 3 of both to 0.
        var weights = Path.ChangeExtension(cfg, ".weights");
        var bytes = File.ReadAllBytes(weights);
        var header = bytes.Length - (((4 * 8) + 216 + 16 + 1152) * 4);
        System.Buffers.Binary.BinaryPrimitives.WriteSingleLittleEndian(bytes.AsSpan(header + (3 * 4)), 0f);
        System.Buffers.Binary.BinaryPrimitives.WriteSingleLittleEndian(bytes.AsSpan(header + ((8 + 3) * 4)), 0f);
        File.WriteAllBytes(weights, bytes);
        s.Project("<NeuralModel Include=\"tiny.cfg\" PruneDeadChannels=\"true\" />", Program("Tiny"));

        var pruned = s.Build();
        Assert.IsTrue(pruned.Succeeded, pruned.ToString());
        // By hand: conv 0 loses one 3x3x3 filter at 32x32 (27,648 MACC), conv 2 one 3x3 input slice of 16 filters at 16x16 (36,864).
        Assert.AreEqual(516_096L - 27_648 - 36_864, MetricsMacc(s.Neural("Tiny", "metrics.json")));
        StringAssert.StartsWith(s.Run("bin/Debug/net10.0/app.dll").Output.Trim(), "Tiny macc=451584 ");

        s.Project("<NeuralModel Include=\"tiny.cfg\" />", Program("Tiny"));
        var unpruned = s.Build();
        Assert.IsTrue(unpruned.Succeeded, unpruned.ToString());
        Assert.IsTrue(unpruned.OptimizeRan, "the setting is part of the stamp");
        Assert.AreEqual(516_096L, MetricsMacc(s.Neural("Tiny", "metrics.json")));
    }

    private static void DarknetWeights(Scenario s, string cfg)
    {
        NeuralBuild.SyntheticWeights.DarknetSyntheticWeights.Write(NeuralBuild.Engine.Formats.ModelFormats.Read(cfg), Path.ChangeExtension(cfg, ".weights"));
        Scenario.Touch(Path.ChangeExtension(cfg, ".weights"));
    }

    [TestMethod]
    public void Budget_given_with_p_fails_an_up_to_date_build_at_the_heaviest_layer_and_fails_again_unchanged()
    {
        var s = new Scenario(Feed, "budget");
        var cfgText = File.ReadAllText(PackedFeed.YoloTinyCfg);
        var cfg = s.Model("yolov3-tiny.cfg", cfgText, seed: 11);
        var csproj = s.Project("<NeuralModel Include=\"yolov3-tiny.cfg\" />", Program("Yolov3Tiny"));

        var ok = s.Build();
        Assert.IsTrue(ok.Succeeded, ok.ToString());
        var report = s.Neural("Yolov3Tiny", "report.md");

        // Expected values from the cfg text alone (DarknetByHand), and the total from the published figure (docs/metrics.md).
        var layers = DarknetByHand.Layers(cfgText);
        var total = layers.Sum(l => l.Macc);
        Assert.AreEqual(5_564_961_792L / 2, total, "the hand reading reproduces darknet's published 5.56 BFLOPs");
        var top = layers.OrderByDescending(l => l.Macc).ThenBy(l => l.Index).Take(3).ToList();
        var excess = total - 2_000_000_000L;
        var expected = $"{cfg}({top[0].Line},{top[0].Column}): error NM1001: MACC is {DarknetByHand.Rounded(total)}MAC ({Scenario.Exact(total)}), which exceeds MaxMacc=2G (2,000,000,000) by {DarknetByHand.Rounded(excess)}MAC ({Scenario.Exact(excess)}). "
            + "Layers contributing most: " + string.Join("; ", top.Select(l => $"layer {l.Index} [convolutional] line {l.Line}: {DarknetByHand.Rounded(l.Macc)}MAC ({Scenario.Exact(l.Macc)})")) + $". Per-layer report: {report} [{csproj}]";

        var failed = s.Build("-p:NeuralMaxMacc=2G");
        Assert.AreEqual(1, failed.ExitCode, failed.ToString());
        Assert.IsTrue(failed.OptimizeSkipped, "the model is up to date; the check still runs");
        Assert.AreEqual(expected, failed.Errors.Single());

        var again = s.Build("-p:NeuralMaxMacc=2G");
        Assert.AreEqual(1, again.ExitCode, "a failed build fails again when rerun unchanged");
        Assert.AreEqual(expected, again.Errors.Single());

        var relaxed = s.Build("-p:NeuralMaxMacc=3G -p:NeuralWarnMacc=2.5G");
        Assert.IsTrue(relaxed.Succeeded, relaxed.ToString());
        // 2,782,480,896 of 3,000,000,000 is 92.7%; of 2,500,000,000, 111.3%.
        Assert.Contains($"NeuralBuild: yolov3-tiny.cfg: MACC {DarknetByHand.Rounded(total)}MAC of MaxMacc 3G (93%); MACC {DarknetByHand.Rounded(total)}MAC of WarnMacc 2.5G (111%); report {report}", relaxed.Output);
        var markdown = File.ReadAllText(report);
        Assert.Contains($"| MaxMacc=3G | yes | {DarknetByHand.Rounded(total)}MAC | 3 GMAC | 93% | {DarknetByHand.Rounded(3_000_000_000L - total)}MAC |", markdown);
        Assert.Contains($"| WarnMacc=2.5G | no (warning) | {DarknetByHand.Rounded(total)}MAC | 2.5 GMAC | 111% | **over by {DarknetByHand.Rounded(total - 2_500_000_000L)}MAC** |", markdown);
        foreach (var layer in layers.Where(l => l.Macc > 0))
        {
            Assert.Contains($"| {layer.Index} | convolutional", markdown, $"layer {layer.Index} has its row");
        }
        // The synthetic weights give a few BatchNorm channels a near-zero variance: NM2003 warnings come too.
        Assert.StartsWith($"{cfg}({top[0].Line},{top[0].Column}): warning NM2001: MACC is", relaxed.Warnings.Single(w => w.Contains(": warning NM2001: ", StringComparison.Ordinal)));

        var promoted = s.Build("-p:NeuralWarnMacc=2.5G -p:WarningsAsErrors=NM2001");
        Assert.AreEqual(1, promoted.ExitCode, "WarningsAsErrors applies to NM codes");
        Assert.StartsWith($"{cfg}({top[0].Line},{top[0].Column}): error NM2001: MACC is", promoted.Errors.Single());
    }

    [TestMethod]
    public void Baseline_is_recorded_on_request_catches_a_regression_and_is_never_updated_by_CI()
    {
        var s = new Scenario(Feed, "baseline");
        var cfg = s.Model("models/tiny.cfg", Scenario.TinyCfg);
        s.Project("<NeuralModel Include=\"models/tiny.cfg\" ModelVersion=\"1.0.0\" MaxMaccIncrease=\"+10%\" />", Program("Tiny"));
        var baselineFile = s.Path_("neural-baseline.json");

        var recorded = s.Build("-p:NeuralUpdateBaseline=true \"-p:NeuralBaselineReason=first release\"");
        Assert.IsTrue(recorded.Succeeded, recorded.ToString());
        var entry = JsonDocument.Parse(File.ReadAllText(baselineFile)).RootElement.GetProperty("models").GetProperty("models/tiny.cfg");
        Assert.AreEqual(516_096L, entry.GetProperty("metrics").GetProperty("macc").GetInt64());
        Assert.AreEqual("1.0.0", entry.GetProperty("modelVersion").GetString());
        Assert.AreEqual("first release", entry.GetProperty("accepted").GetProperty("why").GetString());

        var clean = s.Build();
        Assert.IsTrue(clean.Succeeded, clean.ToString());
        Assert.IsEmpty(clean.Warnings, clean.ToString());

        File.WriteAllText(cfg, Scenario.TinyCfg.Replace("filters=16", "filters=32", StringComparison.Ordinal));
        DarknetWeights(s, cfg);
        var regressed = s.Build();
        Assert.AreEqual(1, regressed.ExitCode, regressed.ToString());
        var macc = regressed.Errors.Single(e => e.Contains("error NM1002: MACC grew", StringComparison.Ordinal));
        Assert.StartsWith($"{cfg}(19,1): error NM1002: MACC grew from 516.1 kMAC (516,096) in the baseline to 811 kMAC (811,008) (by 294.9 kMAC (294,912), +57.14%), beyond MaxMaccIncrease=+10% (at most 567,705).", macc);
        Assert.Contains("Layers that grew most against the baseline: layer 2 [convolutional] line 19: 294.9 kMAC (294,912).", macc);

        var before = File.ReadAllText(baselineFile);
        var refused = s.Build("-p:NeuralUpdateBaseline=true -p:ContinuousIntegrationBuild=true");
        Assert.AreEqual(1, refused.ExitCode);
        Assert.Contains(": error NM0064: ", refused.Errors.Single());
        var refusedByEnvironment = s.Build("-p:NeuralUpdateBaseline=true", environment: new Dictionary<string, string> { ["CI"] = "true" });
        Assert.AreEqual(1, refusedByEnvironment.ExitCode);
        Assert.Contains(": error NM0064: ", refusedByEnvironment.Errors.Single());
        Assert.AreEqual(before, File.ReadAllText(baselineFile), "CI never rewrites the baseline");

        var accepted = s.Build("-p:NeuralUpdateBaseline=true");
        Assert.IsTrue(accepted.Succeeded, accepted.ToString());
        Assert.IsTrue(s.Build().Succeeded);
        Assert.Contains("\"macc\": 811008", File.ReadAllText(baselineFile));
    }

    [TestMethod]
    public void Culture_named_model_embeds_in_the_main_assembly_and_Embed_false_copies_beside_it()
    {
        var s = new Scenario(Feed, "embedding");
        s.Model("model.fr.cfg", Scenario.TinyCfg);
        s.Model("copied.cfg", Scenario.TinyCfg);
        s.Project("<NeuralModel Include=\"model.fr.cfg\" /><NeuralModel Include=\"copied.cfg\" Embed=\"false\" />", Program("ModelFr", "Copied"));
        var build = s.Build();
        Assert.IsTrue(build.Succeeded, build.ToString());

        var output = s.Path_("bin", "Debug", "net10.0");
        Assert.IsFalse(Directory.Exists(Path.Combine(output, "fr")), "no satellite assembly");
        using (var pe = new PEReader(File.OpenRead(Path.Combine(output, "app.dll"))))
        {
            var reader = pe.GetMetadataReader();
            var names = reader.ManifestResources.Select(h => reader.GetString(reader.GetManifestResource(h).Name)).Order(StringComparer.Ordinal).ToArray();
            CollectionAssert.AreEqual(new[] { "NeuralModels/ModelFr/model.fr.cfg", "NeuralModels/ModelFr/model.fr.weights" }, names);
        }

        Assert.IsTrue(File.Exists(Path.Combine(output, "NeuralModels", "Copied", "copied.cfg")));
        Assert.IsTrue(File.Exists(Path.Combine(output, "NeuralModels", "Copied", "copied.weights")));
        var run = s.Run("bin/Debug/net10.0/app.dll");
        var length = new FileInfo(s.Neural("ModelFr", "model.fr.cfg")).Length;
        Assert.AreEqual($"ModelFr macc=516096 definitionBytes={length}\nCopied macc=516096 definitionBytes={length}", run.Output.Trim().ReplaceLineEndings("\n"));
    }

    [TestMethod]
    public void A_model_library_with_public_accessors_is_used_by_an_app_that_references_it()
    {
        var s = new Scenario(Feed, "library");
        s.Model("lib/tiny.cfg", Scenario.TinyCfg);
        s.Project("<NeuralModel Include=\"tiny.cfg\" />", "namespace Lib;\n\npublic static class Marker { }\n", folder: "lib", name: "lib",
            properties: "<OutputType>Library</OutputType><RootNamespace>Lib</RootNamespace><NeuralAccessorVisibility>public</NeuralAccessorVisibility>");
        s.Project("<ProjectReference Include=\"../lib/lib.csproj\" />",
            "using var definition = Lib.NeuralModels.Tiny.OpenDefinition();\nConsole.WriteLine($\"macc={Lib.NeuralModels.Tiny.Macc} bytes={definition.Length}\");\n", folder: "app");

        var build = s.Build(project: "app/app.csproj");
        Assert.IsTrue(build.Succeeded, build.ToString());
        Assert.AreEqual($"macc=516096 bytes={new FileInfo(s.Path_("lib", "obj", "Debug", "neural", "Tiny", "tiny.cfg")).Length}", s.Run("app/bin/Debug/net10.0/app.dll").Output.Trim());

        s.Project("<NeuralModel Include=\"tiny.cfg\" />", "namespace Lib;\n\npublic static class Marker { }\n", folder: "lib", name: "lib",
            properties: "<OutputType>Library</OutputType><NeuralAccessorVisibility>protected</NeuralAccessorVisibility>");
        var refused = s.Build(project: "lib/lib.csproj");
        Assert.AreEqual(1, refused.ExitCode, refused.ToString());
        Assert.StartsWith($"{s.Path_("lib", "lib.csproj")} : error NM0073: NeuralAccessorVisibility='protected' is not a visibility", refused.Errors.First());
    }

    /// <remarks>
    /// Visual Studio cannot run here. Its MSBuild differs from this one in two reserved properties the
    /// targets read through _NeuralHostRuntime / _NeuralHostVersion; set, they select the declarations
    /// such a host gets, and this MSBuild 18 runs them: the tasks really go through a .NET task host.
    /// </remarks>
    [TestMethod]
    public void As_a_dotnet_framework_host_the_build_runs_the_tasks_in_a_dotnet_task_host_from_msbuild_18_and_says_NM0065_before()
    {
        var s = new Scenario(Feed, "hosts");
        s.Model("tiny.cfg", Scenario.TinyCfg);
        s.Project("<NeuralModel Include=\"tiny.cfg\" />", Program("Tiny"));

        var visualStudio2026 = s.Build("-p:_NeuralHostRuntime=Full -p:_NeuralHostVersion=18.0.5");
        Assert.IsTrue(visualStudio2026.Succeeded, visualStudio2026.ToString());
        Assert.IsTrue(visualStudio2026.OptimizeRan);
        Assert.MatchesRegex("Launching task \"NeuralOptimize\" from assembly .* in an external task host", visualStudio2026.DetailedLog);
        StringAssert.StartsWith(s.Run("bin/Debug/net10.0/app.dll").Output.Trim(), "Tiny macc=516096 ");

        var visualStudio2022 = s.Build("-p:_NeuralHostRuntime=Full -p:_NeuralHostVersion=17.14.8");
        Assert.AreEqual(1, visualStudio2022.ExitCode, visualStudio2022.ToString());
        Assert.StartsWith($"{s.Path_("app.csproj")} : error NM0065: NeuralBuild's tasks are net10.0: they run in the .NET MSBuild of the .NET SDK (dotnet build), or from .NET Framework MSBuild 18.0 or newer (Visual Studio 2026) in a .NET task host; this build runs on MSBuild 17.14.8 for Full.", visualStudio2022.Errors.Single());
    }

    [TestMethod]
    public void A_multi_targeting_project_optimises_each_model_once_and_embeds_it_in_every_framework()
    {
        var s = new Scenario(Feed, "multitarget");
        s.UseNuGetOrg(); // the net8.0 targeting pack
        s.Model("tiny.cfg", Scenario.TinyCfg);
        s.Project("<NeuralModel Include=\"tiny.cfg\" />", "namespace Lib;\n\npublic static class Marker { }\n", name: "lib",
            properties: "<OutputType>Library</OutputType><TargetFramework></TargetFramework><TargetFrameworks>net8.0;net10.0</TargetFrameworks>");

        // Both target frameworks at once: they meet at the model's lock, and one of them optimises.
        var parallel = s.Build("-m:2", project: "lib.csproj");
        Assert.IsTrue(parallel.Succeeded, parallel.ToString());
        Assert.AreEqual(1, parallel.Lines.Count(l => l.StartsWith("NeuralBuild: tiny.cfg -> ", StringComparison.Ordinal)), "optimised once:\n" + parallel);
        foreach (var framework in new[] { "net8.0", "net10.0" })
        {
            using var pe = new PEReader(File.OpenRead(s.Path_("bin", "Debug", framework, "lib.dll")));
            var reader = pe.GetMetadataReader();
            var names = reader.ManifestResources.Select(h => reader.GetString(reader.GetManifestResource(h).Name)).Order(StringComparer.Ordinal).ToArray();
            CollectionAssert.AreEqual(new[] { "NeuralModels/Tiny/tiny.cfg", "NeuralModels/Tiny/tiny.weights" }, names, framework);
        }

        // A changed model, target frameworks one after the other: the second finds it up to date.
        File.WriteAllText(s.Path_("tiny.cfg"), Scenario.TinyCfg.Replace("filters=16", "filters=32", StringComparison.Ordinal));
        DarknetWeights(s, s.Path_("tiny.cfg"));
        var sequential = s.Build("-m:1", project: "lib.csproj");
        Assert.IsTrue(sequential.Succeeded, sequential.ToString());
        Assert.AreEqual(1, sequential.Lines.Count(l => l.StartsWith("NeuralBuild: tiny.cfg -> ", StringComparison.Ordinal)), "optimised once:\n" + sequential);
        Assert.AreEqual(811_008L, MetricsMacc(s.Neural("Tiny", "metrics.json")));
    }

    [TestMethod]
    public void Two_projects_sharing_a_model_build_in_parallel()
    {
        var s = new Scenario(Feed, "shared");
        s.Model("shared/tiny.cfg", Scenario.TinyCfg);
        s.Project("<NeuralModel Include=\"../shared/tiny.cfg\" />", Program("Tiny"), folder: "a", name: "a");
        s.Project("<NeuralModel Include=\"../shared/tiny.cfg\" MaxMacc=\"1M\" />", Program("Tiny"), folder: "b", name: "b");
        File.WriteAllText(s.Path_("both.slnx"), "<Solution>\n  <Project Path=\"a/a.csproj\" />\n  <Project Path=\"b/b.csproj\" />\n</Solution>\n");

        var build = s.Build("-m:2", project: "both.slnx");
        Assert.IsTrue(build.Succeeded, build.ToString());
        foreach (var p in new[] { "a", "b" })
        {
            Assert.AreEqual("Tiny macc=516096 definitionBytes=" + new FileInfo(s.Path_(p, "obj", "Debug", "neural", "Tiny", "tiny.cfg")).Length,
                s.Run($"{p}/bin/Debug/net10.0/{p}.dll").Output.Trim());
        }

        CollectionAssert.AreEquivalent(new[] { "tiny.cfg", "tiny.weights" }, Directory.GetFiles(s.Path_("shared")).Select(Path.GetFileName).ToArray(), "nothing is written next to the shared model");
    }

    [TestMethod]
    public void Failed_optimisation_leaves_no_output_and_fails_again_until_fixed()
    {
        var s = new Scenario(Feed, "failing");
        var cfg = s.Model("tiny.cfg", Scenario.TinyCfg);
        s.Project("<NeuralModel Include=\"tiny.cfg\" />", Program("Tiny"));
        var weights = Path.ChangeExtension(cfg, ".weights");
        var good = File.ReadAllBytes(weights);
        File.WriteAllBytes(weights, good[..(good.Length - 400)]);

        var failed = s.Build();
        Assert.AreEqual(1, failed.ExitCode, failed.ToString());
        Assert.Contains(": error NM0030: ", failed.Errors.Single());
        Assert.IsFalse(File.Exists(s.Neural("Tiny", "metrics.json")), "no output that could look up to date");
        Assert.IsFalse(File.Exists(s.Neural("Tiny", "tiny.weights")));

        var again = s.Build();
        Assert.AreEqual(1, again.ExitCode, "fails again when rerun unchanged");
        Assert.Contains(": error NM0030: ", again.Errors.Single());

        File.WriteAllBytes(weights, good);
        Scenario.Touch(weights);
        var fixedBuild = s.Build();
        Assert.IsTrue(fixedBuild.Succeeded, fixedBuild.ToString());
    }

    [TestMethod]
    public void Caffe_model_is_fused_embedded_budgeted_and_baselined_like_a_darknet_one()
    {
        var s = new Scenario(Feed, "caffe");
        var prototxt = s.Model("net.prototxt", Scenario.TinyPrototxt);
        var csproj = s.Project("<NeuralModel Include=\"net.prototxt\" ModelVersion=\"1.0.0\" />", Program("Net"));

        var first = s.Build("-p:NeuralUpdateBaseline=true \"-p:NeuralBaselineReason=first release\"");
        Assert.IsTrue(first.Succeeded, first.ToString());
        Assert.AreEqual(55_296L + 2_048L, MetricsMacc(s.Neural("Net", "metrics.json")));
        var fused = File.ReadAllText(s.Neural("Net", "net.prototxt"));
        Assert.DoesNotContain("BatchNorm", fused);
        Assert.DoesNotContain("\"Scale\"", fused);
        Assert.Contains("bias_term: true", fused);
        Assert.IsTrue(File.Exists(s.Neural("Net", "net.caffemodel")), "weights default to net.caffemodel and are optimised beside it");
        var run = s.Run("bin/Debug/net10.0/app.dll");
        Assert.AreEqual($"Net macc=57344 definitionBytes={new FileInfo(s.Neural("Net", "net.prototxt")).Length}", run.Output.Trim());
        var entry = JsonDocument.Parse(File.ReadAllText(s.Path_("neural-baseline.json"))).RootElement.GetProperty("models").GetProperty("net.prototxt");
        Assert.AreEqual(57_344L, entry.GetProperty("metrics").GetProperty("macc").GetInt64());

        // conv1 (line 4) holds 55,296 of the 57,344 MACC: the budget error points at it.
        var failed = s.Build("-p:NeuralMaxMacc=50k");
        Assert.AreEqual(1, failed.ExitCode, failed.ToString());
        var error = failed.Errors.Single();
        Assert.StartsWith($"{prototxt}(4,1): error NM1001: MACC is ", error);
        Assert.Contains("(57,344)", error);
        Assert.Contains("layer 0 [Convolution] line 4: ", error);
        Assert.EndsWith($"[{csproj}]", error);

        var noop = s.Build();
        Assert.IsTrue(noop.Succeeded, noop.ToString());
        Assert.IsTrue(noop.OptimizeSkipped, "an unchanged Caffe model is up to date");
    }

    [TestMethod]
    public void Onnx_model_is_fused_embedded_budgeted_and_baselined_like_a_darknet_one()
    {
        var s = new Scenario(Feed, "onnx");
        var onnx = s.OnnxModel("net.onnx");
        var csproj = s.Project("<NeuralModel Include=\"net.onnx\" ModelVersion=\"1.0.0\" />", Program("Net"));

        var first = s.Build("-p:NeuralUpdateBaseline=true \"-p:NeuralBaselineReason=first release\"");
        Assert.IsTrue(first.Succeeded, first.ToString());
        Assert.AreEqual(55_296L + 2_048L, MetricsMacc(s.Neural("Net", "metrics.json")));

        // One file holds graph and weights: written once, embedded once, the BatchNormalization folded away.
        var fused = NeuralBuild.Engine.Formats.Onnx.Proto.ModelProto.Parser.ParseFrom(File.ReadAllBytes(s.Neural("Net", "net.onnx")));
        CollectionAssert.AreEqual(new[] { "Conv", "Relu", "MaxPool", "Conv" }, fused.Graph.Node.Select(n => n.OpType).ToArray());
        Assert.HasCount(3, fused.Graph.Node[0].Input, "the folded conv gained a bias");
        Assert.IsFalse(fused.Graph.Initializer.Any(i => i.Name.StartsWith("bn1.", StringComparison.Ordinal)), "BN parameters dropped");
        var run = s.Run("bin/Debug/net10.0/app.dll");
        Assert.AreEqual($"Net macc=57344 definitionBytes={new FileInfo(s.Neural("Net", "net.onnx")).Length}", run.Output.Trim());
        var entry = JsonDocument.Parse(File.ReadAllText(s.Path_("neural-baseline.json"))).RootElement.GetProperty("models").GetProperty("net.onnx");
        Assert.AreEqual(57_344L, entry.GetProperty("metrics").GetProperty("macc").GetInt64());

        // conv1 holds 55,296 of the 57,344 MACC: the budget error names the model file and that node.
        var failed = s.Build("-p:NeuralMaxMacc=50k");
        Assert.AreEqual(1, failed.ExitCode, failed.ToString());
        var error = failed.Errors.Single();
        Assert.StartsWith($"{onnx} : error NM1001: MACC is ", error); // no line in a binary file: MSBuild prints "file : error"
        Assert.Contains("(57,344)", error);
        Assert.Contains("layer 0 [Conv] 'conv1': ", error);
        Assert.EndsWith($"[{csproj}]", error);

        var noop = s.Build();
        Assert.IsTrue(noop.Succeeded, noop.ToString());
        Assert.IsTrue(noop.OptimizeSkipped, "an unchanged ONNX model is up to date");

        // New weights, same architecture: optimised again, and the metrics still equal the baseline.
        s.OnnxModel("net.onnx", seed: 4);
        var changed = s.Build();
        Assert.IsTrue(changed.Succeeded, "same architecture, new weights: metrics equal the baseline\n" + changed);
        Assert.IsTrue(changed.OptimizeRan, "new weights are optimised again");

        // Weights in external data cannot go into an assembly: a coded error on the model, and no
        // optimised file left that a later build could take for up to date.
        s.OnnxModel("net.onnx", externalData: true);
        var external = s.Build();
        Assert.AreEqual(1, external.ExitCode, external.ToString());
        Assert.StartsWith($"{onnx} : error NM0069: 'net.onnx' keeps its weights in external data: optimised, it is the model plus net.onnx.data,", external.Errors.Single());
        Assert.IsFalse(File.Exists(s.Neural("Net", "net.onnx")));
        Assert.IsFalse(File.Exists(s.Neural("Net", "metrics.json")));
    }

    [TestMethod]
    public void Engine_warnings_reach_the_build_once_on_every_build_and_NoWarn_and_WarningsAsErrors_apply()
    {
        var s = new Scenario(Feed, "warnings");
        var cfg = s.TinyCfgWithVariance("tiny.cfg", channel: 5, variance: 1e-7f);
        s.Project("<NeuralModel Include=\"tiny.cfg\" />", Program("Tiny"));
        var expected = $"{cfg}(7,1): warning NM2003: layer 0 [convolutional]: 1 channel(s) with variance below 10x epsilon: 5 (var 1E-07)";

        var first = s.Build();
        Assert.IsTrue(first.Succeeded, first.ToString());
        Assert.IsTrue(first.OptimizeRan);
        Assert.StartsWith(expected, first.Warnings.Single(), first.ToString());
        Assert.Contains("    1 Warning(s)", first.DetailedLog, "logged once, by the check, not also by the optimiser");

        var noop = s.Build();
        Assert.IsTrue(noop.OptimizeSkipped, "no-op build");
        Assert.StartsWith(expected, noop.Warnings.Single(), "replayed although the optimiser did not run\n" + noop);

        var silenced = s.Build("-p:NoWarn=NM2003");
        Assert.IsTrue(silenced.Succeeded, silenced.ToString());
        Assert.IsEmpty(silenced.Warnings, silenced.ToString());

        var promoted = s.Build("-p:WarningsAsErrors=NM2003");
        Assert.AreEqual(1, promoted.ExitCode, promoted.ToString());
        Assert.StartsWith(expected.Replace(": warning NM2003:", ": error NM2003:", StringComparison.Ordinal), promoted.Errors.Single());

        // The same properties written in the project, as people do.
        s.Project("<NeuralModel Include=\"tiny.cfg\" />", Program("Tiny"), properties: "<NoWarn>$(NoWarn);NM2003</NoWarn>");
        var inProject = s.Build();
        Assert.IsTrue(inProject.Succeeded, inProject.ToString());
        Assert.IsEmpty(inProject.Warnings, inProject.ToString());
        s.Project("<NeuralModel Include=\"tiny.cfg\" />", Program("Tiny"), properties: "<WarningsAsErrors>$(WarningsAsErrors);NM2003</WarningsAsErrors>");
        var promotedInProject = s.Build();
        Assert.AreEqual(1, promotedInProject.ExitCode, promotedInProject.ToString());
        Assert.Contains(": error NM2003: ", promotedInProject.Errors.Single());

        var asMessage = s.Build("-p:MSBuildWarningsAsMessages=NM2003");
        Assert.IsTrue(asMessage.Succeeded, asMessage.ToString());
        Assert.IsEmpty(asMessage.Warnings, asMessage.ToString());
    }

    [TestMethod]
    public void The_build_summary_keeps_its_number_format_in_a_multi_node_build()
    {
        var s = new Scenario(Feed, "summary");
        s.Model("tiny.cfg", Scenario.TinyCfg);
        s.Project("<NeuralModel Include=\"tiny.cfg\" />", Program("Tiny"));

        // Every project on an out-of-process node: the summary travels to the logger as an event.
        var build = s.Build("-m:2", environment: new Dictionary<string, string> { ["MSBUILDNOINPROCNODE"] = "1" });

        Assert.IsTrue(build.Succeeded, build.ToString());
        var summary = build.Lines.Single(l => l.StartsWith("NeuralBuild: tiny.cfg -> ", StringComparison.Ordinal));
        Assert.MatchesRegex(@" in \d+\.\d s$", summary);
    }
}
