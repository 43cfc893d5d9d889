using Microsoft.Build.Framework;
using Microsoft.Build.Utilities;
using NeuralBuild.Engine.Budgets;

namespace NeuralBuild.Tasks.Tests;

/// <summary>
/// What the tasks tell the build: the engine's warnings (on the optimising build and again on every
/// later one, once each), internal errors as NM9000 with the stack trace at low importance, file
/// failures as NM0070, messages formatted before logging, and which budget value won.
/// </summary>
[TestClass]
public sealed class ReportingTests
{
    private static (bool Ok, FakeBuildEngine Engine) Optimize(ITaskItem model, Action<Engine.Formats.OutputSet>? beforeCommit = null)
    {
        var engine = new FakeBuildEngine();
        var ok = new NeuralOptimize { BuildEngine = engine, Models = [model], BeforeCommit = beforeCommit }.Execute();
        return (ok, engine);
    }

    private static (bool Ok, FakeBuildEngine Engine) Check(Scratch s, ITaskItem model, ITaskItem? defaults = null)
    {
        var engine = new FakeBuildEngine();
        var task = new NeuralCheckBudgets { BuildEngine = engine, Models = [model], Defaults = defaults, ProjectFile = s.ProjectFile, BaselineFile = s.Path_("neural-baseline.json") };
        return (task.Execute(), engine);
    }

    private static string[] Outputs(ITaskItem model) =>
        [model.GetMetadata("MetricsFile"), model.GetMetadata("OptimizedDefinition"), model.GetMetadata("OptimizedWeights")];

    private static void AssertNoStaging(Scratch s) =>
        Assert.IsEmpty(Directory.GetDirectories(s.Intermediate, ".*"), "no staging folder left behind");

    [TestMethod]
    public void A_near_zero_variance_warning_is_reported_by_the_check_on_every_build_and_not_by_the_optimiser()
    {
        using var s = new Scratch();
        var cfg = s.Model("tiny.cfg");
        s.SetFirstBatchNormVariance(cfg, channel: 3, variance: 1e-7f);
        var model = s.ResolveOne("tiny.cfg");

        var (optimized, optimizer) = Optimize(model);
        Assert.IsTrue(optimized, optimizer.Describe());
        Assert.IsEmpty(optimizer.Warnings, "the check step reports it; the optimiser only stores it");
        Assert.Contains("1 warning(s)", optimizer.Messages.Single(m => m.Importance == MessageImportance.High).Message!);

        for (var build = 0; build < 2; build++)
        {
            // The second check stands for a no-op build: the optimiser did not run again.
            var (ok, engine) = Check(s, model);
            Assert.IsTrue(ok, engine.Describe());
            var warning = engine.Warnings.Single();
            Assert.AreEqual("NM2003", warning.Code);
            Assert.AreEqual(cfg, warning.File);
            Assert.AreEqual(7, warning.LineNumber, "the [convolutional] holding the BatchNorm");
            Assert.AreEqual(1, warning.ColumnNumber);
            Assert.StartsWith("layer 0 [convolutional]: 1 channel(s) with variance below 10x epsilon: 3 (var 1E-07)", warning.Message);
        }
    }

    [TestMethod]
    public void Healthy_variances_give_no_warning()
    {
        using var s = new Scratch();
        var cfg = s.Model("tiny.cfg");
        s.SetFirstBatchNormVariance(cfg, channel: 3, variance: 0.5f);
        var model = s.ResolveOne("tiny.cfg");
        Assert.IsTrue(Optimize(model).Ok);

        var (ok, engine) = Check(s, model);

        Assert.IsTrue(ok, engine.Describe());
        Assert.IsEmpty(engine.Warnings, engine.Describe());
    }

    [TestMethod]
    public void A_bug_in_a_task_is_one_NM9000_error_naming_the_model_with_the_stack_at_low_importance()
    {
        using var s = new Scratch();
        s.Model("tiny.cfg");
        var model = s.ResolveOne("tiny.cfg");
        Assert.IsTrue(Optimize(model).Ok);
        foreach (var output in Outputs(model))
        {
            File.SetLastWriteTimeUtc(output, DateTime.UtcNow.AddHours(-1)); // out of date: optimised again
        }

        var (ok, engine) = Optimize(model, _ => throw new InvalidOperationException("Sequence contains no elements"));

        Assert.IsFalse(ok);
        var error = engine.Errors.Single();
        Assert.AreEqual("NM9000", error.Code);
        Assert.AreEqual(s.Path_("tiny.cfg"), error.File);
        Assert.StartsWith("Internal error in NeuralBuild while processing 'tiny.cfg' (InvalidOperationException: Sequence contains no elements). This is a bug in NeuralBuild", error.Message);
        Assert.Contains("-v:d", error.Message);
        Assert.DoesNotContain("   at ", error.Message);
        var stack = engine.Messages.Single(m => m.Message!.Contains("   at ", StringComparison.Ordinal));
        Assert.AreEqual(MessageImportance.Low, stack.Importance);
        Assert.Contains(nameof(ReportingTests), stack.Message!);
        foreach (var output in Outputs(model))
        {
            Assert.IsFalse(File.Exists(output), "no output that could look up to date: " + output);
        }

        AssertNoStaging(s);
    }

    [TestMethod]
    public void Any_task_reports_an_escaping_exception_as_NM9000_at_the_project_when_no_model_is_current()
    {
        var engine = new FakeBuildEngine();

        Assert.IsFalse(new Throwing { BuildEngine = engine }.Execute());

        Assert.AreEqual("NM9000", engine.Errors.Single().Code);
        Assert.AreEqual(engine.ProjectFileOfTaskNode, engine.Errors.Single().File);
        Assert.StartsWith("Internal error in NeuralBuild (NullReferenceException: ", engine.Errors.Single().Message);
    }

    [TestMethod]
    public void A_folder_where_the_weights_go_is_NM0070_and_leaves_no_output()
    {
        using var s = new Scratch();
        s.Model("tiny.cfg");
        var model = s.ResolveOne("tiny.cfg");
        Assert.IsTrue(Optimize(model).Ok);
        var weights = model.GetMetadata("OptimizedWeights");
        File.Delete(weights);
        Directory.CreateDirectory(weights);

        var (ok, engine) = Optimize(model);

        Assert.IsFalse(ok);
        var error = engine.Errors.Single();
        Assert.AreEqual("NM0070", error.Code);
        Assert.AreEqual(weights, error.File);
        Assert.StartsWith($"Cannot write '{weights}': a folder has that name.", error.Message);
        Assert.IsFalse(File.Exists(model.GetMetadata("MetricsFile")));
        Assert.IsFalse(File.Exists(model.GetMetadata("OptimizedDefinition")));
        AssertNoStaging(s);
    }

    [TestMethod]
    public void Every_message_is_formatted_before_it_is_logged()
    {
        using var s = new Scratch();
        var cfg = s.Model("tiny.cfg");
        var model = s.ResolveOne("tiny.cfg", ("MaxMacc", "1G"));
        var (_, optimizer) = Optimize(model);
        var defaults = new TaskItem("defaults");
        defaults.SetMetadata("MaxMacc", "2G");
        var (_, check) = Check(s, model, defaults);
        var accessor = new FakeBuildEngine();
        new NeuralGenerateAccessor { BuildEngine = accessor, Models = [model], OutputFile = s.Path_("obj/NeuralModels.g.cs") }.Execute();

        var messages = optimizer.Messages.Concat(check.Messages).Concat(accessor.Messages).ToList();
        Assert.IsGreaterThanOrEqualTo(4, messages.Count, "summary, pass log, budget source, accessor");
        foreach (var m in messages)
        {
            Assert.IsEmpty(FakeBuildEngine.FormatArguments(m) ?? [], m.Message);
        }

        // The summary's seconds are formatted here, with one decimal: "in 0.4 s", never "in 0.4381679 s".
        Assert.MatchesRegex(@" in \d+\.\d s$", optimizer.Messages.Single(m => m.Importance == MessageImportance.High).Message!);

        // The check can fail: MSBuild's own LogMessage with arguments leaves them on the event.
        var control = new FakeBuildEngine();
        new TaskLoggingHelper(control, "control").LogMessage(MessageImportance.High, "in {0:0.0} s", 2.4381679);
        Assert.HasCount(1, FakeBuildEngine.FormatArguments(control.Messages.Single())!);
        Assert.IsTrue(File.Exists(cfg));
    }

    [TestMethod]
    public void Item_metadata_winning_over_a_property_is_said_at_low_importance()
    {
        using var s = new Scratch();
        s.Model("tiny.cfg");
        var model = s.ResolveOne("tiny.cfg", ("MaxMacc", "1G"));
        Assert.IsTrue(Optimize(model).Ok);
        var defaults = new TaskItem("defaults");
        defaults.SetMetadata("MaxMacc", "100k");
        defaults.SetMetadata("MaxParams", "1M");

        var (ok, engine) = Check(s, model, defaults);

        Assert.IsTrue(ok, "MaxMacc=1G from the item applies, not the property's 100k: " + engine.Describe());
        var said = engine.Messages.Single(m => m.Message!.Contains("wins over", StringComparison.Ordinal));
        Assert.AreEqual(MessageImportance.Low, said.Importance);
        Assert.AreEqual("NeuralBuild: tiny.cfg: MaxMacc='1G' from the NeuralModel item's metadata wins over the property NeuralMaxMacc='100k' (item metadata always wins over the project-wide property; remove the metadata to use the property).", said.Message);
        Assert.IsFalse(engine.Messages.Any(m => m.Message!.Contains("wins over the property NeuralMaxParams", StringComparison.Ordinal)), "a property the item does not override is not mentioned");

        // The summary lists both budgets, from wherever they came. MACC 3·3·3·8·32·32 + 3·3·8·16·16·16 = 516,096
        // (0.05% of 1G); parameters after folding 3·3·3·8 + 8 + 3·3·8·16 + 16 = 1,392 (0.14% of 1M).
        var summary = engine.Messages.Single(m => m.Message!.StartsWith("NeuralBuild: tiny.cfg: MACC ", StringComparison.Ordinal));
        Assert.AreEqual(MessageImportance.High, summary.Importance);
        Assert.AreEqual($"NeuralBuild: tiny.cfg: MACC 516.1 kMAC of MaxMacc 1G (0%); parameter count 1.39 k of MaxParams 1M (0%); report {model.GetMetadata("ReportFile")}", summary.Message);
    }

    /// <summary>A task whose work has a bug.</summary>
    private sealed class Throwing : NeuralTask
    {
        protected override void Run()
        {
            string? nothing = null;
            _ = nothing!.Length;
        }
    }
}
