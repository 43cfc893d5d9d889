using System.Diagnostics;
using Microsoft.Build.Framework;
using NeuralBuild.Engine.Analysis;
using NeuralBuild.Engine.Budgets;
using NeuralBuild.Engine.Diagnostics;
using NeuralBuild.Engine.Formats.Darknet;
using NeuralBuild.Engine.Ir;
using NeuralBuild.Engine.Pipeline;

namespace NeuralBuild.Tasks;

/// <summary>
/// The expensive step, run by an incremental target: for each resolved model, calls
/// <see cref="ModelOptimizer.Optimize"/> into a private staging folder, moves the optimised
/// definition and weights to their final names, and writes the metrics JSON last (it is the
/// target's newest output). A model that fails leaves none of its outputs behind, so the next
/// build cannot mistake a failure for an up-to-date result.
/// </summary>
public sealed class NeuralOptimize : Microsoft.Build.Utilities.Task
{
    /// <summary>Items produced by <see cref="NeuralResolveModels"/>.</summary>
    [Required]
    public ITaskItem[] Models { get; set; } = [];

    public override bool Execute()
    {
        foreach (var model in Models)
        {
            Optimize(model);
        }

        return !Log.HasLoggedErrors;
    }

    private void Optimize(ITaskItem model)
    {
        var definition = model.GetMetadata(ModelItem.DefinitionPath);
        var weights = model.GetMetadata(ModelItem.WeightsPath);
        var outputDirectory = model.GetMetadata(ModelItem.OutputDirectory);
        string[] outputs = [model.GetMetadata(ModelItem.MetricsFile), model.GetMetadata(ModelItem.OptimizedDefinition), model.GetMetadata(ModelItem.OptimizedWeights)];
        var staging = Path.Combine(outputDirectory, ".staging-" + Guid.NewGuid().ToString("N")[..12]);
        var clock = Stopwatch.StartNew();
        try
        {
            // Stale outputs first: if anything below fails, nothing older survives to look up to date.
            DeleteAll(outputs);
            Directory.CreateDirectory(outputDirectory);
            var inputShape = model.GetMetadata(ModelItem.InputShape);
            var dialect = Enum.Parse<DarknetDialect>(model.GetMetadata(ModelItem.Dialect));
            var verify = Enum.Parse<VerifyMode>(model.GetMetadata(ModelItem.Verify));
            var result = ModelOptimizer.Optimize(new OptimizeRequest
            {
                DefinitionPath = definition,
                WeightsPath = weights.Length > 0 ? weights : null,
                InputShape = inputShape.Length > 0 ? Shape.Parse(inputShape) : null,
                Dialect = dialect,
                Verify = verify,
                OutputDirectory = staging,
            });
            foreach (var line in result.PassLog)
            {
                Log.LogMessage(MessageImportance.Low, "{0}: {1}", Path.GetFileName(definition), line);
            }

            // An ONNX model whose weights live in external data files comes out as the model plus those
            // files. An assembly resource cannot hold them (and external data exists for models near the
            // 2 GB limit): refused before anything is moved into place.
            var sidecars = Directory.GetFiles(staging)
                .Where(f => f != result.OptimizedDefinitionPath && f != result.OptimizedWeightsPath)
                .Select(Path.GetFileName)
                .ToList();
            if (sidecars.Count > 0)
            {
                throw DiagnosticCodes.ExternalDataNotBuildable.Exception(new SourceLocation(definition),
                    $"'{Path.GetFileName(definition)}' keeps its weights in external data: optimised, it is the model plus {string.Join(", ", sidecars)}, which the build cannot embed or copy. Run `dotnet neural fuse` and ship its output folder, or save the model with its weights inside the .onnx file.");
            }

            // A copy keeps its source's timestamp; outputs must be newer than every input to be up to date.
            var now = DateTime.UtcNow;
            File.SetLastWriteTimeUtc(result.OptimizedDefinitionPath, now);
            File.Move(result.OptimizedDefinitionPath, outputs[1], overwrite: true);

            // ONNX keeps its weights inside the definition: one file, already in place.
            if (!string.Equals(result.OptimizedWeightsPath, result.OptimizedDefinitionPath, StringComparison.Ordinal))
            {
                File.SetLastWriteTimeUtc(result.OptimizedWeightsPath, now);
                File.Move(result.OptimizedWeightsPath, outputs[2], overwrite: true);
            }
            // ONNX: one file is both; hashed once.
            var definitionHash = FileHash.Sha256(definition);
            var metrics = ModelMetrics.FromReport(
                result.After,
                definition,
                new Dictionary<string, string>
                {
                    ["definition"] = definitionHash,
                    ["weights"] = string.Equals(weights, definition, StringComparison.Ordinal) ? definitionHash : FileHash.Sha256(weights),
                },
                new Dictionary<string, string>
                {
                    ["dialect"] = dialect.ToString(),
                    ["inputShape"] = result.After.InputShape,
                    ["verify"] = verify.ToString(),
                },
                result.Before);
            CanonicalJson.WriteFileAtomically(outputs[0], metrics.ToJson());
            Log.LogMessage(MessageImportance.High, "NeuralBuild: {0} -> {1} (MACC {2}, params {3}, weights {4}, peak activation {5}) in {6:0.0} s",
                Path.GetFileName(definition),
                outputDirectory,
                BudgetMetric.Macc.Rounded(metrics.Value(BudgetMetric.Macc)),
                HumanUnits.Count(metrics.Value(BudgetMetric.Params)),
                HumanUnits.Bytes(metrics.Value(BudgetMetric.WeightsSize)),
                HumanUnits.Bytes(metrics.Value(BudgetMetric.PeakActivation)),
                clock.Elapsed.TotalSeconds);
        }
        catch (NeuralException e)
        {
            Log.Log(e.Diagnostic);
            DeleteAll(outputs);
        }
        catch
        {
            // Not bad input but a bug or an environment failure: MSBuild reports it with the stack.
            DeleteAll(outputs);
            throw;
        }
        finally
        {
            if (Directory.Exists(staging))
            {
                Directory.Delete(staging, recursive: true);
            }
        }
    }

    private static void DeleteAll(IEnumerable<string> paths)
    {
        foreach (var path in paths.Where(File.Exists))
        {
            File.Delete(path);
        }
    }
}
