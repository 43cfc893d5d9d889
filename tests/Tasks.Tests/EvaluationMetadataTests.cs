using Microsoft.Build.Utilities;
using NeuralBuild.Engine.Budgets;
using NeuralBuild.Engine.Tests.Evaluation;

namespace NeuralBuild.Tasks.Tests;

/// <summary>
/// <c>EvaluationInputs</c> (and how images are prepared) resolved at the project, stamped so a changed
/// input measures again, used by the optimise step; <c>MinTop1Agreement</c> / <c>NeuralMinTop1Agreement</c>
/// checked by the check step, at the model file, naming the report. The classifier is
/// <see cref="TieClassifier"/>: its int8 export keeps the top-1 class on 0 of its 7 inputs, by construction.
/// </summary>
[TestClass]
public sealed class EvaluationMetadataTests
{
    private static (bool Ok, FakeBuildEngine Engine) Check(Scratch s, Microsoft.Build.Framework.ITaskItem model, TaskItem? defaults = null)
    {
        var engine = new FakeBuildEngine();
        var task = new NeuralCheckBudgets { BuildEngine = engine, Models = [model], Defaults = defaults, ProjectFile = s.ProjectFile, BaselineFile = s.Path_("neural-baseline.json") };
        return (task.Execute(), engine);
    }

    [TestMethod]
    public void Inputs_are_resolved_against_the_project_and_stamped_file_by_file()
    {
        using var s = new Scratch();
        TieClassifier.Write(s.Directory);

        var model = s.ResolveOne("cls.cfg", ("EvaluationInputs", "inputs"), ("InputMean", "0.485,0.456,0.406"), ("InputStd", "0.229,0.224,0.225"), ("ChannelOrder", "bgr"));

        Assert.AreEqual(s.Path_("inputs"), model.GetMetadata("EvaluationInputs"));
        var settings = model.GetMetadata("Settings");
        StringAssert.Contains(settings, "evaluationInputs=" + s.Path_("inputs"));
        StringAssert.Contains(settings, $"in0.npy:{new FileInfo(s.Path_("inputs/in0.npy")).Length}:");
        StringAssert.Contains(settings, "photo.png:");
        StringAssert.Contains(settings, "bgr");
        Assert.DoesNotContain("README.txt", settings, "only inputs are stamped");

        File.AppendAllText(s.Path_("inputs/extra.npy"), string.Empty);
        var changed = s.ResolveOne("cls.cfg", ("EvaluationInputs", "inputs"));
        StringAssert.Contains(changed.GetMetadata("Settings"), "extra.npy:0:", "a new input changes the stamp: the model is measured again");
    }

    [TestMethod]
    [DataRow("EvaluationInputs", "missing", "NM0379", "do not exist")]
    [DataRow("ChannelOrder", "rbg", "NM0379", "give one of rgb|bgr")]
    [DataRow("InputMean", "0.5,x", "NM0379", "'x' is not a number")]
    public void Bad_evaluation_settings_are_coded_errors_at_the_project(string key, string value, string code, string hint)
    {
        using var s = new Scratch();
        TieClassifier.Write(s.Directory);
        var engine = new FakeBuildEngine();
        var item = new TaskItem(s.Path_("cls.cfg"));
        item.SetMetadata(key, value);
        var task = new NeuralResolveModels { BuildEngine = engine, Models = [item], ProjectFile = s.ProjectFile, IntermediateDirectory = s.Intermediate };

        Assert.IsFalse(task.Execute());

        var error = engine.Errors.Single();
        Assert.AreEqual(code, error.Code);
        Assert.AreEqual(s.ProjectFile, error.File);
        StringAssert.Contains(error.Message, hint);
    }

    [TestMethod]
    public void A_quantized_export_measured_on_the_inputs_is_budgeted_by_MinTop1Agreement_at_the_model()
    {
        using var s = new Scratch();
        TieClassifier.Write(s.Directory);
        var model = s.ResolveOne("cls.cfg", ("Export", "onnx"), ("Quantize", "int8"), ("EvaluationInputs", "inputs"), ("MinTop1Agreement", "99%"));
        var engine = new FakeBuildEngine();
        Assert.IsTrue(new NeuralOptimize { BuildEngine = engine, Models = [model] }.Execute(), engine.Describe());

        var accuracy = ModelMetrics.Load(model.GetMetadata("MetricsFile")).Accuracy!;
        Assert.AreEqual(0.0, accuracy.Outputs.Single().Top1Agreement, "measured on the 7 inputs: every top-1 lost by the tie");

        var (ok, failed) = Check(s, model);
        Assert.IsFalse(ok);
        Assert.AreEqual(
            $"{s.Path_("cls.cfg")}(0,0): error NM1011: the quantized export (int8 per channel) keeps the original's top-1 class on 0% of the items of output 'layer3', below MinTop1Agreement=99%. Per-layer report: {model.GetMetadata("ReportFile")}",
            FakeBuildEngine.Format(failed.Errors.Single()));

        // The project-wide property applies when the item sets none; the item's own wins over it.
        model.SetMetadata("MinTop1Agreement", string.Empty);
        var defaults = new TaskItem("defaults");
        defaults.SetMetadata("MinTop1Agreement", "50%");
        Assert.AreEqual("NM1011", Check(s, model, defaults).Engine.Errors.Single().Code);
        model.SetMetadata("MinTop1Agreement", "0%");
        var (passes, passed) = Check(s, model, defaults);
        Assert.IsTrue(passes, passed.Describe());
        model.SetMetadata("MinTop1Agreement", "99");
        Assert.AreEqual("NM0379", Check(s, model).Engine.Errors.Single().Code, "a budget without its percent sign");
    }
}
