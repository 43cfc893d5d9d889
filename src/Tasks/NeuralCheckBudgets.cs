using Microsoft.Build.Framework;
using NeuralBuild.Engine.Budgets;
using NeuralBuild.Engine.Diagnostics;
using NeuralBuild.Engine.Reporting;
using NuGet.Versioning;

namespace NeuralBuild.Tasks;

/// <summary>
/// The always-running check: reads each model's metrics JSON (written by the optimise step, even
/// when that step was skipped as up to date) and checks it against the budgets (item metadata,
/// falling back to the project-wide <c>Neural…</c> properties) and the checked-in baseline. With
/// <see cref="UpdateBaseline"/> it records the current metrics instead of checking regressions,
/// which a CI build refuses. It also replays the engine's warnings stored with the metrics, so they
/// appear on every build (once), not only on the one that optimised the model.
/// </summary>
public sealed class NeuralCheckBudgets : NeuralTask
{
    /// <summary>Items produced by <see cref="NeuralResolveModels"/> (they keep the NeuralModel metadata).</summary>
    [Required]
    public ITaskItem[] Models { get; set; } = [];

    /// <summary>One item whose metadata holds the project-wide defaults (MaxMacc = $(NeuralMaxMacc), …).</summary>
    public ITaskItem? Defaults { get; set; }

    [Required]
    public string ProjectFile { get; set; } = string.Empty;

    [Required]
    public string BaselineFile { get; set; } = string.Empty;

    public bool UpdateBaseline { get; set; }

    /// <summary>$(CI): with <see cref="ContinuousIntegrationBuild"/>, what tells a CI build (<see cref="Engine.Budgets.ContinuousIntegration"/>), where baseline updates are refused.</summary>
    public string? CI { get; set; }

    /// <summary>$(ContinuousIntegrationBuild).</summary>
    public string? ContinuousIntegrationBuild { get; set; }

    private bool InContinuousIntegration => ContinuousIntegration.IsActive(CI, ContinuousIntegrationBuild);

    /// <summary>The accepted.why recorded by an update (<c>$(NeuralBaselineReason)</c>).</summary>
    public string? BaselineReason { get; set; }

    /// <summary>For tests: the clock of accepted.when.</summary>
    internal Func<DateTimeOffset> Now { get; set; } = () => DateTimeOffset.UtcNow;

    private readonly HashSet<string> _reported = new(StringComparer.Ordinal);

    protected override void Run()
    {
        var project = new SourceLocation(ProjectFile);
        if (UpdateBaseline && InContinuousIntegration)
        {
            Log.Log(ContinuousIntegration.BaselineUpdateRefused(project, "NeuralUpdateBaseline=true", BaselineFile));
        }

        BaselineFile? baseline = null;
        try
        {
            baseline = Engine.Budgets.BaselineFile.Load(BaselineFile);
        }
        catch (NeuralException e)
        {
            Log.Log(e.Diagnostic);
        }

        var recorded = new List<string>();
        foreach (var model in Models)
        {
            try
            {
                CurrentModel = model.GetMetadata(ModelItem.DefinitionPath);
                Check(model, project, baseline, recorded);
            }
            catch (NeuralException e)
            {
                Log.Log(e.Diagnostic);
            }
        }

        CurrentModel = null;
        if (recorded.Count > 0 && baseline is not null)
        {
            baseline.Save();
            Log.Message(MessageImportance.High, $"NeuralBuild: recorded the baseline of {string.Join(", ", recorded)} in {BaselineFile}");
        }
    }

    private void Check(ITaskItem model, SourceLocation project, BaselineFile? baseline, List<string> recorded)
    {
        var metrics = ModelMetrics.Load(model.GetMetadata(ModelItem.MetricsFile));
        foreach (var warning in metrics.Warnings)
        {
            Log.Log(warning);
        }

        var configErrors = new List<Diagnostic>();
        var settings = BudgetSettings.Parse(name => Setting(model, name), project, configErrors);
        foreach (var d in configErrors.Where(d => _reported.Add(d.ToString())))
        {
            // A bad project-wide property is the same error for every model: report it once.
            Log.Log(d);
        }

        var versionText = model.GetMetadata(ModelItem.ModelVersion);
        var version = versionText.Length > 0 ? NuGetVersion.Parse(versionText) : null;
        var update = UpdateBaseline && !InContinuousIntegration && baseline is not null;
        BaselineContext? context = null;
        if (baseline is not null && !UpdateBaseline)
        {
            var key = baseline.KeyFor(metrics.ModelPath);
            context = new BaselineContext
            {
                BaselinePath = BaselineFile,
                Entry = baseline.Find(key),
                WarnIfMissing = baseline.Exists || settings.Increase.Count > 0,
                DeclaredVersion = version,
                AcceptHint = "'dotnet build -p:NeuralUpdateBaseline=true' (or 'dotnet neural baseline accept')",
            };
        }

        var reportFile = model.GetMetadata(ModelItem.ReportFile);
        var verdicts = BudgetEvaluator.Evaluate(metrics, settings, context);
        var report = new BuildReport(metrics, BudgetMargin.Of(metrics, settings), baseline?.Find(baseline.KeyFor(metrics.ModelPath)), [.. metrics.Warnings, .. verdicts])
        {
            MaxOutputError = settings.MaxOutputError,
        };
        WriteWhenChanged(reportFile, report.Markdown());
        WriteWhenChanged(model.GetMetadata(ModelItem.HtmlReportFile), HtmlReport.Render(BuildHtmlReport.Input(metrics, settings, report.Baseline, baseline?.Path)));
        foreach (var d in verdicts)
        {
            Log.Log(NamesTheReport(d) ? d with { Message = $"{d.Message} Per-layer report: {reportFile}" } : d);
        }

        Log.Message(MessageImportance.High, $"NeuralBuild: {Path.GetFileName(metrics.ModelPath)}: {report.BudgetSummary()}; report {reportFile}");

        if (update)
        {
            var key = baseline!.KeyFor(metrics.ModelPath);
            var why = string.IsNullOrWhiteSpace(BaselineReason) ? "dotnet build -p:NeuralUpdateBaseline=true" : BaselineReason.Trim();
            baseline.Record(key, metrics, version, why, Now());
            recorded.Add(key);
        }
    }

    /// <summary>A budget or regression verdict, whose explanation is the report's per-layer table.</summary>
    private static bool NamesTheReport(Diagnostic d) =>
        d.Descriptor == DiagnosticCodes.BudgetExceeded || d.Descriptor == DiagnosticCodes.BudgetWarning || d.Descriptor == DiagnosticCodes.RegressionExceeded
        || d.Descriptor == DiagnosticCodes.OutputErrorBudgetExceeded || d.Descriptor == DiagnosticCodes.Top1AgreementBelowBudget;

    /// <summary>A no-op build leaves the report as it was: same text, same file, same timestamp.</summary>
    private static void WriteWhenChanged(string path, string text)
    {
        if (path.Length > 0 && (!File.Exists(path) || File.ReadAllText(path) != text))
        {
            CanonicalJson.WriteFileAtomically(path, text);
        }
    }

    /// <summary>
    /// Item metadata wins; otherwise the project-wide default (property <c>Neural</c> + name). When
    /// both are set, which one won is said in a low-importance message (seen at <c>-v:d</c>), since
    /// a <c>-p:Neural…</c> that has no effect is otherwise silent.
    /// </summary>
    private string? Setting(ITaskItem model, string name)
    {
        var own = model.GetMetadata(name);
        var projectWide = Defaults?.GetMetadata(name);
        if (own.Trim().Length == 0)
        {
            return projectWide;
        }

        if (!string.IsNullOrWhiteSpace(projectWide) && !string.Equals(own.Trim(), projectWide.Trim(), StringComparison.Ordinal))
        {
            Log.Message(MessageImportance.Low,
                $"NeuralBuild: {Path.GetFileName(model.GetMetadata(ModelItem.DefinitionPath))}: {name}='{own.Trim()}' from the NeuralModel item's metadata wins over the property Neural{name}='{projectWide.Trim()}' (item metadata always wins over the project-wide property; remove the metadata to use the property).");
        }

        return own;
    }
}
