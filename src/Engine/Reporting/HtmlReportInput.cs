using NeuralBuild.Engine.Analysis;
using NeuralBuild.Engine.Budgets;
using NeuralBuild.Engine.Passes;
using NeuralBuild.Engine.Pipeline;

namespace NeuralBuild.Engine.Reporting;

/// <summary>
/// Everything one HTML report shows, from analysis results only (never a model file): the model, and
/// whatever its caller has beside it. The tool fills what its options ask for; the build fills it
/// from its optimisation (<see cref="OptimizedModel.From"/>), its budgets and its baseline.
/// </summary>
public sealed record HtmlReportInput
{
    /// <summary>The model as read: its graph, per-layer figures and charts.</summary>
    public required ModelReport Model { get; init; }

    /// <summary>The budgets the model is held to; null or empty: none set.</summary>
    public BudgetSettings? Budgets { get; init; }

    /// <summary>The accepted baseline's figures for this model; null: no baseline.</summary>
    public BaselineEntry? Baseline { get; init; }

    /// <summary>Where the baseline came from, named in the report.</summary>
    public string? BaselinePath { get; init; }

    /// <summary>The model after fuse / convert / compression, shown beside <see cref="Model"/>; null: not optimised.</summary>
    public OptimizedModel? Optimized { get; init; }

    /// <summary>Measured time per layer; null: not profiled.</summary>
    public ModelProfile? Profile { get; init; }

    /// <summary>What produced the report (<c>dotnet neural report</c>, the build), shown in its footer.</summary>
    public string Generator { get; init; } = "NeuralBuild";

    /// <summary>The figures budgets and baselines are checked against: the optimised model's when there is one (as the build checks), else the model's.</summary>
    public ModelReport Checked => Optimized?.After ?? Model;
}

/// <summary>The build's report: what the check step knows on every build, up to date or not.</summary>
public static class BuildHtmlReport
{
    /// <summary>
    /// The optimised model's report from its metrics (figures per layer, output shapes, the layers each
    /// reads), with the budgets and the baseline entry: a function of the metrics file, the settings and
    /// the baseline only, like <see cref="BuildReport"/>, so a no-op build renders the same bytes.
    /// Before/after and the folds are the tool's (<c>dotnet neural report --fold</c>): the build keeps
    /// only the optimised model's figures.
    /// </summary>
    public static HtmlReportInput Input(ModelMetrics metrics, BudgetSettings settings, BaselineEntry? baseline, string? baselinePath)
    {
        ArgumentNullException.ThrowIfNull(metrics);
        var model = metrics.ToReport();
        return new HtmlReportInput { Model = model, Budgets = settings, Baseline = baseline, BaselinePath = baselinePath, Generator = "NeuralBuild (the build)" };
    }
}

/// <summary>What an optimisation made of the model: its figures, the folds applied and refused, and how the result was verified.</summary>
/// <param name="Operation">What was done: <c>fuse</c>, <c>convert</c>, …</param>
/// <param name="After">The optimised model's figures.</param>
/// <param name="Passes">Each fold applied or refused, with the reason.</param>
/// <param name="Verification">The comparison of the optimised model with the original; null when not verified.</param>
/// <param name="RemovedLayers">Source layers the passes removed entirely.</param>
public sealed record OptimizedModel(string Operation, ModelReport After, PassReport Passes, VerificationReport? Verification, IReadOnlyList<int> RemovedLayers)
{
    /// <summary>The optimisation <see cref="ModelOptimizer"/> ran, as the report shows it.</summary>
    public static OptimizedModel From(OptimizeResult result, string operation = "fuse")
    {
        ArgumentNullException.ThrowIfNull(result);
        return new OptimizedModel(operation, result.After, result.Passes, result.Verification ?? result.LossyCost, result.RemovedLayers);
    }
}
