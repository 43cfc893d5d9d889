using System.Diagnostics;
using Microsoft.Build.Framework;
using NeuralBuild.Engine.Analysis;
using NeuralBuild.Engine.Budgets;
using NeuralBuild.Engine.Diagnostics;
using NeuralBuild.Engine.Formats;
using NeuralBuild.Engine.Ir;
using NeuralBuild.Engine.Passes;
using NeuralBuild.Engine.Passes.Surgery;
using NeuralBuild.Engine.Pipeline;

namespace NeuralBuild.Tasks;

/// <summary>
/// The expensive step, run by an incremental target: for each resolved model, calls
/// <see cref="ModelOptimizer.Optimize(OptimizeRequest, OutputSet)"/> into an <see cref="OutputSet"/>
/// beside its output folder and commits the optimised definition, weights and the metrics JSON
/// (with the engine's warnings, which <see cref="NeuralCheckBudgets"/> reports on every build) as
/// one set. A model that fails leaves none of its outputs behind, so the next build cannot mistake
/// a failure for an up-to-date result.
/// </summary>
public sealed class NeuralOptimize : NeuralTask
{
    /// <summary>Items produced by <see cref="NeuralResolveModels"/>.</summary>
    [Required]
    public ITaskItem[] Models { get; set; } = [];

    /// <summary>The runtime check program (<c>tools/runtime-check/NeuralBuild.RuntimeCheck.dll</c> of the package); empty: exports are not run in their runtime.</summary>
    public string? RuntimeCheckTool { get; set; }

    /// <summary>Native files of the project's packages: where the runtime check finds the runtime the app ships (the project's own ONNX Runtime package, for example).</summary>
    public ITaskItem[] RuntimeLibraries { get; set; } = [];

    /// <summary>For tests: called with the output set of each model before it is committed.</summary>
    internal Action<OutputSet>? BeforeCommit { get; set; }

    protected override void Run()
    {
        foreach (var model in Models)
        {
            Optimize(model);
        }
    }

    private void Optimize(ITaskItem model)
    {
        var definition = model.GetMetadata(ModelItem.DefinitionPath);
        CurrentModel = definition;
        var weights = model.GetMetadata(ModelItem.WeightsPath);
        var outputDirectory = model.GetMetadata(ModelItem.OutputDirectory);
        string[] outputs = [model.GetMetadata(ModelItem.MetricsFile), model.GetMetadata(ModelItem.OptimizedDefinition), model.GetMetadata(ModelItem.OptimizedWeights), model.GetMetadata(ModelItem.ExportFile)];
        var clock = Stopwatch.StartNew();
        try
        {
            // The target frameworks of one project share the optimised model (one folder per model and
            // configuration); their builds may run at once. The first to take the model's lock
            // optimises; the others wait, then find it up to date, as MSBuild would have.
            using var hold = OptimizeLock.Acquire(outputDirectory, definition, Log);
            if (UpToDate(model, outputs))
            {
                Log.Message(MessageImportance.Normal, $"NeuralBuild: {Path.GetFileName(definition)} is up to date in {outputDirectory} (optimised by the build of another target framework)");
                return;
            }

            // Stale outputs first: if anything below fails, nothing older survives to look up to date.
            DeleteAll(outputs);
            using var set = OutputSet.Begin(outputDirectory);
            var inputShape = model.GetMetadata(ModelItem.InputShape);
            var formatOptions = FormatOptions.Parse([model.GetMetadata(ModelItem.ResolvedFormatOptions)], new SourceLocation(definition));
            var verify = Enum.Parse<VerifyMode>(model.GetMetadata(ModelItem.Verify));
            var request = new OptimizeRequest
                {
                    DefinitionPath = definition,
                    WeightsPath = weights.Length > 0 ? weights : null,
                    InputShape = inputShape.Length > 0 ? Shape.Parse(inputShape) : null,
                    FormatOptions = formatOptions,
                    Verify = verify,
                    ExportFormat = model.GetMetadata(ModelItem.Export) is { Length: > 0 } export ? export : null,
                    ExportOptions = FormatOptions.Parse([model.GetMetadata(ModelItem.ExportOptions)], new SourceLocation(definition)),
                    EvaluationInputs = EvaluationMetadata.Inputs(model, new SourceLocation(definition)),
                    Fold = model.GetMetadata(ModelItem.Fold) != "false",
                    PruneDeadChannels = model.GetMetadata(ModelItem.PruneDeadChannels) == "true",
                    LowRankFc = model.GetMetadata(ModelItem.LowRankFc) is { Length: > 0 } lowRank ? LowRankTarget.Parse(lowRank, new SourceLocation(definition)) : null,
                    Surgery = new ModelSurgery
                    {
                        KeepClasses = model.GetMetadata(ModelItem.KeepClasses) is { Length: > 0 } keep ? ModelSurgery.ParseClasses(keep, new SourceLocation(definition)) : null,
                        Outputs = model.GetMetadata(ModelItem.Outputs) is { Length: > 0 } newOutputs ? newOutputs.Split(',') : null,
                    },
                    OutputDirectory = outputDirectory,
                    Progress = new StageMessages(Log, Path.GetFileName(definition)),
                };
            var result = ModelOptimizer.Optimize(request, set);
            foreach (var line in result.PassLog)
            {
                Log.Message(MessageImportance.Low, $"{Path.GetFileName(definition)}: {line}");
            }

            // An ONNX model whose weights live in external data files comes out as the model plus those
            // files. An assembly resource cannot hold them (and external data exists for models near the
            // 2 GB limit): refused before anything is moved into place.
            var sidecars = set.Staged()
                .Select(set.Final)
                .Where(f => f != result.OptimizedDefinitionPath && f != result.OptimizedWeightsPath && f != result.ExportPath)
                .Select(Path.GetFileName)
                .ToList();
            if (sidecars.Count > 0)
            {
                throw DiagnosticCodes.ExternalDataNotBuildable.Exception(new SourceLocation(definition),
                    $"'{Path.GetFileName(definition)}' keeps its weights in external data: optimised, it is the model plus {string.Join(", ", sidecars)}, which the build cannot embed or copy. Run `dotnet neural fuse` and ship its output folder, or save the model with its weights inside the model file.");
            }

            var exported = CheckInRuntime(request, result, set, definition);

            // Outputs must be newer than every input to be up to date, whatever a writer did with times.
            var now = DateTime.UtcNow;
            foreach (var staged in set.Staged())
            {
                File.SetLastWriteTimeUtc(staged, now);
            }

            var metrics = result.ToMetrics() with { Warnings = result.Warnings };
            // Written last: the newest output, which the target's up-to-date check compares.
            set.WriteText(Path.GetFileName(outputs[0]), metrics.ToJson());
            BeforeCommit?.Invoke(set);
            set.Commit();
            Log.Message(MessageImportance.High, $"NeuralBuild: {Path.GetFileName(definition)} -> {outputDirectory} (MACC {BudgetMetric.Macc.Rounded(metrics.Value(BudgetMetric.Macc))}, params {HumanUnits.Count(metrics.Value(BudgetMetric.Params))}, weights {HumanUnits.Bytes(metrics.Value(BudgetMetric.WeightsSize))}, peak activation {HumanUnits.Bytes(metrics.Value(BudgetMetric.PeakActivation))}){exported} in {clock.Elapsed.TotalSeconds:0.0} s{(result.Warnings.Count > 0 ? $", {result.Warnings.Count} warning(s)" : string.Empty)}");
        }
        catch (NeuralException e)
        {
            Log.Log(e.Diagnostic);
            DeleteAll(outputs);
        }
        catch
        {
            // Not bad input: NeuralTask reports it (NM0072 or NM9000); no output may look up to date.
            DeleteAll(outputs);
            throw;
        }

        CurrentModel = null;
    }

    /// <summary>
    /// The export run by its runtime (<see cref="RuntimeCheckProcess"/>) against the original, before
    /// anything is committed: a difference is NM0041 and nothing is written; a runtime the project does
    /// not reference is NM2005 (the export was still read back and checked by the engine).
    /// </summary>
    /// <returns>What the build summary says about the export ("", or ", exported x.onnx (…)").</returns>
    private string CheckInRuntime(OptimizeRequest request, OptimizeResult result, OutputSet set, string definition)
    {
        if (result.Export is null)
        {
            return string.Empty;
        }

        var exported = $", exported {Path.GetFileName(result.ExportPath)}";
        if (request.Verify == VerifyMode.None)
        {
            return exported + " (not verified)";
        }

        var readBack = result.ExportVerification is { } check ? $"read back: max abs error {check.MaxAbsoluteError:G3}"
            : result.ExportAccuracy is { } accuracy ? $"quantized, read back: max relative error {OutputErrorBudget.Percent(accuracy.Outputs.Max(o => o.MaxRelativeError))}"
            : "not read back";
        if (string.IsNullOrEmpty(RuntimeCheckTool))
        {
            return $"{exported} ({readBack})";
        }

        var staged = set.Stage(Path.GetFileName(result.ExportPath!));
        var (outcome, headline, detail) = RuntimeCheckProcess.Run(RuntimeCheckTool, request, result.WeightsPath, result, staged,
            RuntimeLibraries.Select(l => l.GetMetadata("FullPath")).Where(p => p.Length > 0));
        var where = new SourceLocation(definition);
        var name = Path.GetFileName(result.ExportPath);
        switch (outcome)
        {
            case RuntimeCheckProcess.Outcome.Passed:
                Log.Message(MessageImportance.Normal, $"NeuralBuild: {name} run by its runtime: {detail}");
                return $"{exported} ({readBack}; {headline})";
            case RuntimeCheckProcess.Outcome.NoRuntime:
                Log.Log(DiagnosticCodes.ExportNotRunInRuntime.At(where,
                    $"'{name}' was checked by reading it back, but not run in its runtime: {headline}. Reference the runtime's package in this project to have the build run it."));
                return $"{exported} ({readBack}; not run in its runtime)";
            case RuntimeCheckProcess.Outcome.Differs:
                throw DiagnosticCodes.VerificationFailed.Exception(where, $"'{name}' run by its runtime does not compute what the original computes: {detail}");
            default:
                throw DiagnosticCodes.RuntimeCheckFailed.Exception(where, $"the runtime check of '{name}' could not run: {headline}");
        }
    }

    private static void DeleteAll(IEnumerable<string> paths)
    {
        foreach (var path in paths.Where(p => p.Length > 0 && File.Exists(p)))
        {
            File.Delete(path);
        }
    }

    /// <summary>
    /// The target's own rule, applied again under the lock: every output exists and none is older
    /// than an input (the model files, the settings stamp, this task assembly).
    /// </summary>
    private static bool UpToDate(ITaskItem model, string[] outputs)
    {
        var present = outputs.Where(o => o.Length > 0).ToList();
        if (present.Any(o => !File.Exists(o)))
        {
            return false;
        }

        string[] inputs = [model.GetMetadata(ModelItem.DefinitionPath), model.GetMetadata(ModelItem.WeightsPath), model.GetMetadata(ModelItem.StampFile), typeof(NeuralOptimize).Assembly.Location];
        var newestInput = inputs.Where(i => i.Length > 0 && File.Exists(i)).Max(File.GetLastWriteTimeUtc);
        return present.Min(File.GetLastWriteTimeUtc) >= newestInput;
    }

    /// <summary>
    /// The build's stage messages: each phase as it starts, at normal importance (<c>dotnet build -v:n</c>
    /// shows where a long optimisation is), and its time when it ends, at low importance.
    /// </summary>
    private sealed class StageMessages(Microsoft.Build.Utilities.TaskLoggingHelper log, string model) : IPipelineProgress
    {
        public void PhaseStarted(string phase) => log.Message(MessageImportance.Normal, $"NeuralBuild: {model}: {phase}…");

        public void PhaseFinished(string phase, TimeSpan elapsed) => log.Message(MessageImportance.Low, $"NeuralBuild: {model}: {phase} took {elapsed.TotalSeconds:0.00} s");
    }
}
