using Microsoft.Build.Framework;
using Microsoft.Build.Utilities;
using NeuralBuild.Engine.Budgets;

namespace NeuralBuild.Tasks.Tests;

[TestClass]
public sealed class ResolveModelsTests
{
    private static (NeuralResolveModels Task, FakeBuildEngine Engine) Resolve(Scratch s, params ITaskItem[] models)
    {
        var engine = new FakeBuildEngine();
        var task = new NeuralResolveModels { BuildEngine = engine, Models = models, ProjectFile = s.ProjectFile, IntermediateDirectory = s.Intermediate };
        task.Execute();
        return (task, engine);
    }

    private static TaskItem Item(Scratch s, string include, params (string Key, string Value)[] metadata)
    {
        var item = new TaskItem(Path.Combine(s.Directory, include));
        foreach (var (k, v) in metadata)
        {
            item.SetMetadata(k, v);
        }

        return item;
    }

    [TestMethod]
    public void Weights_default_to_the_same_base_name_and_outputs_go_under_the_intermediate_folder()
    {
        using var s = new Scratch();
        var cfg = s.Model("models/yolo-v2.cfg");
        var (task, engine) = Resolve(s, Item(s, "models/yolo-v2.cfg", ("MaxMacc", "1G")));
        Assert.IsEmpty(engine.Errors, engine.Describe());
        var m = task.ResolvedModels.Single();
        Assert.AreEqual(Path.Combine(s.Directory, "models", "yolo-v2.weights"), m.GetMetadata("WeightsPath"));
        Assert.AreEqual("YoloV2", m.GetMetadata("ClassName"));
        Assert.AreEqual(Path.Combine(s.Intermediate, "YoloV2", "metrics.json"), m.GetMetadata("MetricsFile"));
        Assert.AreEqual(Path.Combine(s.Intermediate, "YoloV2", "yolo-v2.cfg"), m.GetMetadata("OptimizedDefinition"));
        Assert.AreEqual("NeuralModels/YoloV2/yolo-v2.weights", m.GetMetadata("WeightsResource"));
        Assert.AreEqual("1G", m.GetMetadata("MaxMacc"), "the user's metadata travels with the item");
        Assert.AreEqual("Layers", m.GetMetadata("Verify"));
        Assert.AreEqual("true", m.GetMetadata("Embed"));
        StringAssert.Contains(m.GetMetadata("Settings"), "weights=" + Path.Combine(s.Directory, "models", "yolo-v2.weights"));
        Assert.IsTrue(File.Exists(cfg));
    }

    [TestMethod]
    public void Weights_metadata_overrides_the_convention_relative_to_the_project()
    {
        using var s = new Scratch();
        s.Model("a.cfg");
        File.Move(s.Path_("a.weights"), s.Path_("trained-final.weights"));
        var (task, engine) = Resolve(s, Item(s, "a.cfg", ("Weights", "trained-final.weights"), ("Verify", "model"), ("Dialect", "PJREDDIE"), ("ModelVersion", "1.2"), ("Embed", "False")));
        Assert.IsEmpty(engine.Errors, engine.Describe());
        var m = task.ResolvedModels.Single();
        Assert.AreEqual(s.Path_("trained-final.weights"), m.GetMetadata("WeightsPath"));
        Assert.AreEqual("Model", m.GetMetadata("Verify"));
        Assert.AreEqual("Pjreddie", m.GetMetadata("Dialect"));
        Assert.AreEqual("1.2.0", m.GetMetadata("ModelVersion"));
        Assert.AreEqual("false", m.GetMetadata("Embed"));
    }

    [TestMethod]
    [DataRow("Verify", "Sometimes", "NM0066", "use one of None, Layers, Model")]
    [DataRow("Verify", "1", "NM0066", "use one of None, Layers, Model")]
    [DataRow("Dialect", "caffe", "NM0066", "AlexeyAB, Pjreddie")]
    [DataRow("Embed", "yes", "NM0066", "use true")]
    [DataRow("PruneDeadChannels", "yes", "NM0066", "use true")]
    [DataRow("Fold", "no", "NM0066", "use true")]
    [DataRow("LowRankFc", "99%", "NM0066", "rank:64")]
    [DataRow("KeepClasses", "1,one", "NM0066", "not a class index")]
    [DataRow("ModelVersion", "v1", "NM0062", "not a SemVer version")]
    [DataRow("InputShape", "3x416x416", "NM0003", "has 3 dimensions")]
    [DataRow("Weights", "missing.weights", "NM0001", "do not exist")]
    public void Bad_settings_are_coded_errors_at_the_project_file(string key, string value, string code, string hint)
    {
        using var s = new Scratch();
        s.Model("a.cfg");
        var (task, engine) = Resolve(s, Item(s, "a.cfg", (key, value)));
        var e = engine.Errors.Single();
        Assert.AreEqual(code, e.Code);
        Assert.AreEqual(s.ProjectFile, e.File);
        StringAssert.Contains(e.Message, hint);
        Assert.IsEmpty(task.ResolvedModels);
        Assert.IsFalse(new NeuralResolveModels { BuildEngine = new FakeBuildEngine(), Models = [Item(s, "a.cfg", (key, value))], ProjectFile = s.ProjectFile, IntermediateDirectory = s.Intermediate }.Execute());
    }

    [TestMethod]
    public void A_class_tree_the_cfg_names_is_an_input_of_the_model_so_changing_it_rebuilds()
    {
        using var s = new Scratch();
        System.IO.Directory.CreateDirectory(s.Path_("data"));
        File.WriteAllLines(s.Path_("data/classes.tree"), ["a -1", "b -1"]);
        s.Model("cfg/tree.cfg", Scratch.TinyCfg + "\n[softmax]\ntree=data/classes.tree\n\n[softmax]\ntree = data/none.tree\n", weights: false);
        File.WriteAllBytes(s.Path_("cfg/tree.weights"), []); // resolving checks only that the weights exist
        var (task, engine) = Resolve(s, Item(s, "cfg/tree.cfg"));
        Assert.IsEmpty(engine.Errors, engine.Describe());
        // Found as darknet would from a checkout (the cfg's parent folder); a tree that does not exist is no input.
        Assert.AreEqual(s.Path_("data/classes.tree"), task.ResolvedModels.Single().GetMetadata("ReferencedFiles"));
    }

    [TestMethod]
    public void Missing_conventional_weights_say_how_to_fix_it()
    {
        using var s = new Scratch();
        s.Model("a.cfg", weights: false);
        var (_, engine) = Resolve(s, Item(s, "a.cfg"));
        Assert.AreEqual("NM0001", engine.Errors.Single().Code);
        StringAssert.Contains(engine.Errors.Single().Message, "'a.weights' is not next to it");
    }

    [TestMethod]
    public void Two_models_with_one_accessor_name_are_NM0067()
    {
        using var s = new Scratch();
        s.Model("one/yolo.cfg");
        s.Model("two/yolo.cfg");
        var (task, engine) = Resolve(s, Item(s, "one/yolo.cfg"), Item(s, "two/yolo.cfg"));
        Assert.AreEqual("NM0067", engine.Errors.Single().Code);
        Assert.HasCount(1, task.ResolvedModels);

        var (renamed, clean) = Resolve(s, Item(s, "one/yolo.cfg"), Item(s, "two/yolo.cfg", ("Name", "yolo-small")));
        Assert.IsEmpty(clean.Errors, clean.Describe());
        CollectionAssert.AreEqual(new[] { "Yolo", "YoloSmall" }, renamed.ResolvedModels.Select(m => m.GetMetadata("ClassName")).ToArray());
    }

    [TestMethod]
    [DataRow("yolov3-tiny", "Yolov3Tiny")]
    [DataRow("model.fr", "ModelFr")]
    [DataRow("3d_unet", "Model3dUnet")]
    [DataRow("__", "Model")]
    public void Accessor_names_are_identifiers(string name, string expected) =>
        Assert.AreEqual(expected, NeuralResolveModels.Identifier(name));
}

[TestClass]
public sealed class OptimizeAndCheckTests
{
    private static void Optimize(ITaskItem model)
    {
        var engine = new FakeBuildEngine();
        Assert.IsTrue(new NeuralOptimize { BuildEngine = engine, Models = [model] }.Execute(), engine.Describe());
    }

    private static (bool Ok, FakeBuildEngine Engine) Check(Scratch s, ITaskItem model, Action<NeuralCheckBudgets>? configure = null)
    {
        var engine = new FakeBuildEngine();
        var task = new NeuralCheckBudgets
        {
            BuildEngine = engine,
            Models = [model],
            ProjectFile = s.ProjectFile,
            BaselineFile = s.Path_("neural-baseline.json"),
            Now = () => new DateTimeOffset(2026, 11, 24, 8, 0, 0, TimeSpan.Zero),
        };
        configure?.Invoke(task);
        return (task.Execute(), engine);
    }

    /// <summary>16x16x3; conv 3x3x3->8: 55,296 MACC; conv 1x1 8->27 (3 anchors x (4 classes + 5)): 55,296; [yolo] with 4 classes.</summary>
    private const string TinyYolo = """
        [net]
        width=16
        height=16
        channels=3

        [convolutional]
        batch_normalize=1
        filters=8
        size=3
        stride=1
        pad=1
        activation=leaky

        [convolutional]
        filters=27
        size=1
        stride=1
        pad=1
        activation=linear

        [yolo]
        mask=0,1,2
        anchors=10,14, 23,27, 37,58
        classes=4
        num=3

        """;

    [TestMethod]
    public void KeepClasses_metadata_embeds_and_measures_the_model_with_those_classes()
    {
        using var s = new Scratch();
        s.Model("head.cfg", TinyYolo);
        var model = s.ResolveOne("head.cfg", ("KeepClasses", " 3, 1 "));
        Assert.AreEqual("1,3", model.GetMetadata("KeepClasses"));
        StringAssert.Contains(model.GetMetadata("Settings"), "keepClasses=1,3");

        Optimize(model);

        // By hand: the head's conv keeps 3 x (2 + 5) = 21 of its 27 filters: 8*21*16*16 = 43,008 MACC.
        var metrics = ModelMetrics.Load(model.GetMetadata("MetricsFile"));
        Assert.AreEqual(55_296L + 43_008L, metrics.Value(BudgetMetric.Macc));
        var cfg = File.ReadAllText(model.GetMetadata("OptimizedDefinition"));
        StringAssert.Contains(cfg, "filters=21");
        StringAssert.Contains(cfg, "classes=2");
    }

    [TestMethod]
    public void Outputs_metadata_cuts_the_embedded_model()
    {
        using var s = new Scratch();
        s.Model("head.cfg", TinyYolo);
        var model = s.ResolveOne("head.cfg", ("Outputs", "1"));
        StringAssert.Contains(model.GetMetadata("Settings"), "outputs=1");

        Optimize(model);

        Assert.DoesNotContain("[yolo]", File.ReadAllText(model.GetMetadata("OptimizedDefinition")));
        Assert.AreEqual(55_296L + 55_296L, ModelMetrics.Load(model.GetMetadata("MetricsFile")).Value(BudgetMetric.Macc));
    }

    [TestMethod]
    public void Optimize_writes_outputs_and_metrics_and_no_staging_folder()
    {
        using var s = new Scratch();
        s.Model("tiny.cfg");
        var model = s.ResolveOne("tiny.cfg");
        Optimize(model);
        foreach (var key in new[] { "MetricsFile", "OptimizedDefinition", "OptimizedWeights" })
        {
            Assert.IsTrue(File.Exists(model.GetMetadata(key)), key);
        }

        var metrics = ModelMetrics.Load(model.GetMetadata("MetricsFile"));
        Assert.AreEqual(221_184L + 294_912L, metrics.Value(BudgetMetric.Macc));
        Assert.AreEqual(s.Path_("tiny.cfg"), metrics.ModelPath);
        Assert.AreEqual(64, metrics.InputSha256["weights"].Length);
        Assert.IsEmpty(Directory.GetDirectories(model.GetMetadata("OutputDirectory")), "staging folder removed");
    }

    [TestMethod]
    public void A_model_another_target_framework_optimised_meanwhile_is_found_up_to_date_under_the_lock()
    {
        using var s = new Scratch();
        s.Model("tiny.cfg");
        var model = s.ResolveOne("tiny.cfg");
        Optimize(model);
        var metrics = model.GetMetadata("MetricsFile");
        var written = File.GetLastWriteTimeUtc(metrics);

        // MSBuild decided before the other build finished, so the target runs; the task looks again.
        var engine = new FakeBuildEngine();
        Assert.IsTrue(new NeuralOptimize { BuildEngine = engine, Models = [model] }.Execute(), engine.Describe());
        Assert.AreEqual(written, File.GetLastWriteTimeUtc(metrics), "not optimised again");
        Assert.IsTrue(engine.Messages.Any(m => m.Message!.StartsWith("NeuralBuild: tiny.cfg is up to date in ", StringComparison.Ordinal)), engine.Describe());

        // The outputs an hour old, the model now: out of date, optimised again.
        foreach (var output in new[] { "MetricsFile", "OptimizedDefinition", "OptimizedWeights" })
        {
            File.SetLastWriteTimeUtc(model.GetMetadata(output), DateTime.UtcNow.AddHours(-1));
        }

        File.SetLastWriteTimeUtc(s.Path_("tiny.cfg"), DateTime.UtcNow);
        var again = new FakeBuildEngine();
        Assert.IsTrue(new NeuralOptimize { BuildEngine = again, Models = [model] }.Execute(), again.Describe());
        Assert.IsFalse(again.Said("is up to date"), again.Describe());
        Assert.IsGreaterThan(DateTime.UtcNow.AddMinutes(-5), File.GetLastWriteTimeUtc(metrics), "a changed input is optimised again");
    }

    [TestMethod]
    public void A_build_waits_while_another_holds_the_models_lock_then_optimises()
    {
        using var s = new Scratch();
        s.Model("tiny.cfg");
        var model = s.ResolveOne("tiny.cfg");
        var engine = new FakeBuildEngine();
        bool ok;
        using (var other = OptimizeLock.Acquire(model.GetMetadata("OutputDirectory"), s.Path_("tiny.cfg"), new TaskLoggingHelper(new FakeBuildEngine(), "other")))
        {
            var task = System.Threading.Tasks.Task.Run(() => new NeuralOptimize { BuildEngine = engine, Models = [model] }.Execute());
            Assert.IsTrue(SpinWait.SpinUntil(() => engine.Said("waiting for another build optimising it"), TimeSpan.FromSeconds(60)), "it waits and says so");
            Assert.IsFalse(task.IsCompleted);
            Assert.IsFalse(File.Exists(model.GetMetadata("MetricsFile")));
            other.Dispose();
            ok = task.Wait(TimeSpan.FromSeconds(120)) && task.Result;
        }

        Assert.IsTrue(ok, engine.Describe());
        Assert.IsTrue(File.Exists(model.GetMetadata("MetricsFile")));
    }

    [TestMethod]
    public void Each_stage_is_a_normal_importance_message_as_it_starts()
    {
        using var s = new Scratch();
        s.Model("tiny.cfg");
        var model = s.ResolveOne("tiny.cfg");
        var engine = new FakeBuildEngine();
        Assert.IsTrue(new NeuralOptimize { BuildEngine = engine, Models = [model] }.Execute(), engine.Describe());

        var stages = engine.Messages.Where(m => m.Importance == MessageImportance.Normal).Select(m => m.Message).ToArray();
        CollectionAssert.AreEqual(
            new[] { "read and analyse", "passes", "verify", "write", "re-read and analyse" }.Select(p => $"NeuralBuild: tiny.cfg: {p}…").ToArray(),
            stages);
    }

    [TestMethod]
    public void PruneDeadChannels_metadata_is_stamped_and_removes_a_channel_whose_batchnorm_scale_and_shift_are_zero()
    {
        using var s = new Scratch();
        var cfg = s.Model("tiny.cfg");
        // Layer 0's BatchNorm: 8 biases (beta) then 8 scales (gamma) right after the header; channel 3 of both to 0.
        var weights = s.Path_("tiny.weights");
        var bytes = File.ReadAllBytes(weights);
        const int Floats = (4 * 8) + 216 + 16 + 1152;
        var header = bytes.Length - (Floats * 4);
        BitConverter.TryWriteBytes(bytes.AsSpan(header + (3 * 4)), 0f);
        BitConverter.TryWriteBytes(bytes.AsSpan(header + ((8 + 3) * 4)), 0f);
        File.WriteAllBytes(weights, bytes);
        var model = s.ResolveOne("tiny.cfg", ("PruneDeadChannels", "True"));
        Assert.AreEqual("true", model.GetMetadata("PruneDeadChannels"));
        StringAssert.Contains(model.GetMetadata("Settings"), "pruneDeadChannels=true");
        StringAssert.Contains(model.GetMetadata("Settings"), "lowRankFc=");
        StringAssert.Contains(s.ResolveOne("tiny.cfg", ("LowRankFc", " RANK:8 ")).GetMetadata("Settings"), "lowRankFc=rank:8");

        Optimize(model);

        // By hand: conv 0 loses one 3x3x3 filter at 32x32 (27,648 MACC), conv 2 one 3x3 input slice of 16 filters at 16x16 (36,864).
        var metrics = ModelMetrics.Load(model.GetMetadata("MetricsFile"));
        Assert.AreEqual(221_184L - 27_648 + 294_912L - 36_864, metrics.Value(BudgetMetric.Macc));
        StringAssert.Contains(File.ReadAllText(model.GetMetadata("OptimizedDefinition")), "filters=7");
        Assert.IsTrue(File.Exists(cfg));
    }

    [TestMethod]
    public void Fold_false_is_stamped_and_writes_the_model_as_read()
    {
        using var s = new Scratch();
        s.Model("tiny.cfg");
        var folded = s.ResolveOne("tiny.cfg");
        var unfolded = s.ResolveOne("tiny.cfg", ("Fold", " False "), ("Name", "TinyUnfolded"));
        Assert.AreEqual("true", folded.GetMetadata("Fold"));
        Assert.AreEqual("false", unfolded.GetMetadata("Fold"));
        StringAssert.Contains(unfolded.GetMetadata("Settings"), "fold=false");
        StringAssert.Contains(folded.GetMetadata("Settings"), "fold=true");

        Optimize(folded);
        Optimize(unfolded);

        // The source cfg has one batch_normalize=1 layer: folded away by default, kept (weights and all) with Fold=false.
        StringAssert.Contains(File.ReadAllText(s.Path_("tiny.cfg")), "batch_normalize=1");
        Assert.DoesNotContain("batch_normalize=1", File.ReadAllText(folded.GetMetadata("OptimizedDefinition")));
        StringAssert.Contains(File.ReadAllText(unfolded.GetMetadata("OptimizedDefinition")), "batch_normalize=1");
        CollectionAssert.AreEqual(File.ReadAllBytes(s.Path_("tiny.weights")), File.ReadAllBytes(unfolded.GetMetadata("OptimizedWeights")));
    }

    [TestMethod]
    public void A_failed_optimisation_logs_the_coded_error_and_leaves_no_stale_output()
    {
        using var s = new Scratch();
        s.Model("tiny.cfg");
        var model = s.ResolveOne("tiny.cfg");
        Optimize(model);

        // Truncate the weights: the next optimisation fails and must not leave the old outputs behind.
        var weights = s.Path_("tiny.weights");
        var bytes = File.ReadAllBytes(weights);
        File.WriteAllBytes(weights, bytes[..(bytes.Length / 2)]);
        var engine = new FakeBuildEngine();
        Assert.IsFalse(new NeuralOptimize { BuildEngine = engine, Models = [model] }.Execute());
        Assert.AreEqual("NM0030", engine.Errors.Single().Code);
        foreach (var key in new[] { "MetricsFile", "OptimizedDefinition", "OptimizedWeights" })
        {
            Assert.IsFalse(File.Exists(model.GetMetadata(key)), key);
        }

        Assert.IsEmpty(Directory.GetDirectories(model.GetMetadata("OutputDirectory")));
    }

    [TestMethod]
    public void Budget_error_is_logged_with_code_file_line_and_column_and_fails_the_task()
    {
        using var s = new Scratch();
        s.Model("tiny.cfg");
        var model = s.ResolveOne("tiny.cfg", ("MaxMacc", "500k"));
        Optimize(model);
        var (ok, engine) = Check(s, model);
        Assert.IsFalse(ok);
        Assert.AreEqual(
            $"{s.Path_("tiny.cfg")}(19,1): error NM1001: MACC is 516.1 kMAC (516,096), which exceeds MaxMacc=500k (500,000) by 16.1 kMAC (16,096). "
            + "Layers contributing most: layer 2 [convolutional] line 19: 294.9 kMAC (294,912); layer 0 [convolutional] line 7: 221.2 kMAC (221,184). "
            + $"Per-layer report: {model.GetMetadata("ReportFile")}",
            FakeBuildEngine.Format(engine.Errors.Single()));
        Assert.IsTrue(File.Exists(model.GetMetadata("ReportFile")), "the report the error names exists");
        var html = File.ReadAllText(model.GetMetadata("HtmlReportFile"));
        StringAssert.Contains(html, "MaxMacc", "the HTML report shows the budget");
        var stamp = new DateTime(2020, 1, 1, 0, 0, 0, DateTimeKind.Utc);
        File.SetLastWriteTimeUtc(model.GetMetadata("HtmlReportFile"), stamp);
        Check(s, model);
        Assert.AreEqual(stamp, File.GetLastWriteTimeUtc(model.GetMetadata("HtmlReportFile")), "the same report is not written again");
    }

    [TestMethod]
    public void Item_metadata_overrides_project_defaults_and_warnings_do_not_fail()
    {
        using var s = new Scratch();
        s.Model("tiny.cfg");
        var model = s.ResolveOne("tiny.cfg", ("WarnMacc", "500k"));
        Optimize(model);
        var defaults = new TaskItem("defaults");
        defaults.SetMetadata("MaxMacc", "100k");
        defaults.SetMetadata("WarnMacc", "1");
        defaults.SetMetadata("MaxParams", "1M");
        var (ok, engine) = Check(s, model, t => t.Defaults = defaults);
        Assert.IsFalse(ok, "the project-wide MaxMacc=100k applies");
        Assert.AreEqual("NM1001", engine.Errors.Single().Code);

        model.SetMetadata("MaxMacc", "1G");
        (ok, engine) = Check(s, model, t => t.Defaults = defaults);
        Assert.IsTrue(ok, engine.Describe());
        Assert.AreEqual("NM2001", engine.Warnings.Single().Code);
        StringAssert.Contains(engine.Warnings.Single().Message, "WarnMacc=500k");
    }

    [TestMethod]
    public void Invalid_budget_is_NM0060_at_the_project()
    {
        using var s = new Scratch();
        s.Model("tiny.cfg");
        var model = s.ResolveOne("tiny.cfg", ("MaxWeightsSize", "2mb"));
        Optimize(model);
        var (ok, engine) = Check(s, model);
        Assert.IsFalse(ok);
        Assert.AreEqual("NM0060", engine.Errors.Single().Code);
        Assert.AreEqual(s.ProjectFile, engine.Errors.Single().File);
    }

    [TestMethod]
    public void Baseline_update_records_then_a_regression_fails_and_CI_refuses_updates()
    {
        using var s = new Scratch();
        s.Model("tiny.cfg");
        var model = s.ResolveOne("tiny.cfg", ("ModelVersion", "1.0.0"));
        Optimize(model);

        var (ok, engine) = Check(s, model, t => { t.UpdateBaseline = true; t.BaselineReason = "initial"; });
        Assert.IsTrue(ok, engine.Describe());
        var entry = BaselineFile.Load(s.Path_("neural-baseline.json")).Find("tiny.cfg")!;
        Assert.AreEqual(516_096L, entry.Metrics["macc"]);
        Assert.AreEqual("initial", entry.AcceptedWhy);
        Assert.AreEqual("2026-11-24T08:00:00Z", entry.AcceptedWhen);

        (ok, engine) = Check(s, model);
        Assert.IsTrue(ok, engine.Describe());
        Assert.IsEmpty(engine.Warnings, engine.Describe());

        // Wider second conv: 3*3*8*16*16*32 = 589,824 MACC, total 811,008.
        s.Model("tiny.cfg", Scratch.TinyCfg.Replace("filters=16", "filters=32", StringComparison.Ordinal));
        Optimize(model);
        (ok, engine) = Check(s, model);
        Assert.IsFalse(ok);
        var regressions = engine.Errors.Where(e => e.Code == "NM1002").ToList();
        Assert.IsTrue(regressions.Any(e => e.Message!.StartsWith("MACC grew from 516.1 kMAC (516,096) in the baseline to 811 kMAC (811,008) (by 294.9 kMAC (294,912), +57.14%), beyond MaxMaccIncrease=+0 (at most 516,096).", StringComparison.Ordinal)), engine.Describe());
        Assert.AreEqual(19, regressions[0].LineNumber);
        // Only the second conv grew: 3*3*8 * 16*16 * (32 - 16) = 294,912 MACC more than the baseline's layer 2.
        Assert.IsTrue(regressions.Any(e => e.Message!.Contains("Layers that grew most against the baseline: layer 2 [convolutional] line 19: 294.9 kMAC (294,912).", StringComparison.Ordinal)), engine.Describe());
        var report = File.ReadAllText(model.GetMetadata("ReportFile"));
        Assert.Contains("## Changes against the baseline", report);
        Assert.Contains("| changed | #2 -> #2 | convolutional | 2 | 19 | 1x16x16x16 -> 1x32x16x16 | +294,912 | +1,168 |", report);

        var before = File.ReadAllText(s.Path_("neural-baseline.json"));
        (ok, engine) = Check(s, model, t => { t.UpdateBaseline = true; t.CI = "True"; });
        Assert.IsFalse(ok);
        Assert.AreEqual("NM0064", engine.Errors.Single().Code);
        Assert.AreEqual(before, File.ReadAllText(s.Path_("neural-baseline.json")), "a refused update leaves the baseline as it was");

        // An older model version than the baseline's is NM1004.
        model.SetMetadata("ModelVersion", "0.9.0");
        (ok, engine) = Check(s, model);
        Assert.IsFalse(ok);
        Assert.AreEqual("NM1004", engine.Errors.Single().Code);
    }

    [TestMethod]
    public void A_bad_project_wide_budget_is_reported_once_for_all_models()
    {
        using var s = new Scratch();
        s.Model("a.cfg");
        s.Model("b.cfg");
        var a = s.ResolveOne("a.cfg");
        var b = s.ResolveOne("b.cfg");
        Optimize(a);
        Optimize(b);
        var defaults = new TaskItem("defaults");
        defaults.SetMetadata("MaxPeakActivation", "4Mb");
        var engine = new FakeBuildEngine();
        var task = new NeuralCheckBudgets { BuildEngine = engine, Models = [a, b], Defaults = defaults, ProjectFile = s.ProjectFile, BaselineFile = s.Path_("neural-baseline.json") };
        Assert.IsFalse(task.Execute());
        Assert.AreEqual("NM0060", engine.Errors.Single().Code);
    }

    [TestMethod]
    public void Missing_metrics_file_is_NM0068()
    {
        using var s = new Scratch();
        s.Model("tiny.cfg");
        var model = s.ResolveOne("tiny.cfg");
        var (ok, engine) = Check(s, model);
        Assert.IsFalse(ok);
        Assert.AreEqual("NM0068", engine.Errors.Single().Code);
    }

    [TestMethod]
    public void Accessor_carries_metrics_and_is_rewritten_only_when_its_text_changes()
    {
        using var s = new Scratch();
        s.Model("tiny.cfg");
        var model = s.ResolveOne("tiny.cfg");
        var output = Path.Combine(s.Intermediate, "NeuralModels.g.cs");
        var task = new NeuralGenerateAccessor { BuildEngine = new FakeBuildEngine(), Models = [model], OutputFile = output, Namespace = "App" };

        Assert.IsTrue(task.Execute());
        StringAssert.Contains(File.ReadAllText(output), "public const long Macc = 0;", "before the first optimisation the figures are unknown");

        Optimize(model);
        Assert.IsTrue(task.Execute());
        var text = File.ReadAllText(output);
        StringAssert.Contains(text, "namespace App");
        StringAssert.Contains(text, "public static class Tiny");
        StringAssert.Contains(text, "public const long Macc = 516096;");
        StringAssert.Contains(text, "public const string DefinitionName = \"NeuralModels/Tiny/tiny.cfg\";");
        StringAssert.Contains(text, "OpenResource(WeightsName)");

        var stamp = new DateTime(2020, 1, 1, 0, 0, 0, DateTimeKind.Utc);
        File.SetLastWriteTimeUtc(output, stamp);
        Assert.IsTrue(task.Execute());
        Assert.AreEqual(stamp, File.GetLastWriteTimeUtc(output), "same text: file untouched, so CoreCompile stays up to date");
    }
}
