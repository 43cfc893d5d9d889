using System.Text;
using Microsoft.Build.Framework;
using Microsoft.Build.Utilities;
using NeuralBuild.Engine.Diagnostics;
using NeuralBuild.Engine.Formats;
using NeuralBuild.Engine.Ir;
using NeuralBuild.Engine.Passes;
using NeuralBuild.Engine.Passes.Surgery;
using NeuralBuild.Engine.Pipeline;
using NuGet.Versioning;

namespace NeuralBuild.Tasks;

/// <summary>
/// The cheap, always-running step: turns <c>NeuralModel</c> items into fully resolved items
/// (absolute inputs, default weights by convention, validated settings, every output path, the
/// settings line the stamp file holds, accessor and resource names). It reads no model: a no-op
/// build pays only for this and the budget check.
/// </summary>
public sealed class NeuralResolveModels : NeuralTask
{
    [Required]
    public ITaskItem[] Models { get; set; } = [];

    /// <summary>The project file: where configuration errors point.</summary>
    [Required]
    public string ProjectFile { get; set; } = string.Empty;

    /// <summary>Absolute folder that receives each model's output folder (<c>obj/$(Configuration)/neural/</c>: one per configuration, shared by the target frameworks).</summary>
    [Required]
    public string IntermediateDirectory { get; set; } = string.Empty;

    [Output]
    public ITaskItem[] ResolvedModels { get; private set; } = [];

    protected override void Run()
    {
        var projectDirectory = Path.GetDirectoryName(Path.GetFullPath(ProjectFile))!;
        var resolved = new List<ITaskItem>();
        var byClass = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var model in Models)
        {
            CurrentModel = model.GetMetadata("FullPath");
            try
            {
                var item = Resolve(model, projectDirectory);
                var className = item.GetMetadata(ModelItem.ClassName);
                if (byClass.TryGetValue(className, out var other))
                {
                    Log.Log(DiagnosticCodes.DuplicateModelName, ProjectFile,
                        $"NeuralModel '{model.ItemSpec}' and '{other}' would both be NeuralModels.{className}; give one of them a different Name metadata, e.g. <NeuralModel Include=\"{model.ItemSpec}\" Name=\"{className}2\" />.");
                    continue;
                }

                byClass[className] = model.ItemSpec;
                resolved.Add(item);
            }
            catch (NeuralException e)
            {
                // Configuration problems are about the project, not the model file.
                var d = e.Diagnostic;
                Log.Log(string.IsNullOrEmpty(d.Location.File) ? d with { Location = new SourceLocation(ProjectFile) } : d);
            }
        }

        CurrentModel = null;
        ResolvedModels = [.. resolved];
    }

    private TaskItem Resolve(ITaskItem model, string projectDirectory)
    {
        var definition = model.GetMetadata("FullPath");
        var where = new SourceLocation(ProjectFile);
        var format = ModelFormats.ForPath(definition);
        if (!File.Exists(definition))
        {
            throw DiagnosticCodes.FileNotFound.Exception(where, $"NeuralModel '{model.ItemSpec}' does not exist (looked for '{definition}').");
        }

        var weightsText = model.GetMetadata(ModelItem.Weights);
        var weights = weightsText.Length > 0 ? Path.GetFullPath(Path.Combine(projectDirectory, weightsText)) : format.DefaultWeightsPath(definition);
        if (!File.Exists(weights))
        {
            throw DiagnosticCodes.FileNotFound.Exception(where, weightsText.Length > 0
                ? $"Weights '{weightsText}' of NeuralModel '{model.ItemSpec}' do not exist (looked for '{weights}')."
                : $"NeuralModel '{model.ItemSpec}' has no weights: '{Path.GetFileName(weights)}' is not next to it. Put the weights there or name them with the Weights metadata.");
        }

        var inputShape = model.GetMetadata(ModelItem.InputShape).Trim();
        if (inputShape.Length > 0)
        {
            try
            {
                inputShape = Shape.Parse(inputShape).ToString();
            }
            catch (NeuralException e)
            {
                throw e.Diagnostic.Descriptor.Exception(where, $"NeuralModel '{model.ItemSpec}' InputShape: {e.Message}");
            }
        }

        var formatOptions = ResolveFormatOptions(model, format, where);
        var verify = Choice<VerifyMode>(model, ModelItem.Verify, VerifyMode.Layers, where);
        var version = model.GetMetadata(ModelItem.ModelVersion).Trim();
        if (version.Length > 0)
        {
            version = NuGetVersion.TryParse(version, out var parsed) ? parsed.ToNormalizedString()
                : throw DiagnosticCodes.InvalidModelVersion.Exception(where, $"NeuralModel '{model.ItemSpec}' ModelVersion '{version}' is not a SemVer version such as 1.2.0 or 2.0.0-rc.1.");
        }

        var embedText = model.GetMetadata(ModelItem.Embed).Trim();
        var embed = embedText.Length == 0 || embedText.Equals("true", StringComparison.OrdinalIgnoreCase) ? true
            : embedText.Equals("false", StringComparison.OrdinalIgnoreCase) ? false
            : throw DiagnosticCodes.InvalidModelSetting.Exception(where, $"NeuralModel '{model.ItemSpec}' Embed='{embedText}': use true (embed as resources) or false (copy to the output folder).");

        var foldText = model.GetMetadata(ModelItem.Fold).Trim();
        var fold = foldText.Length == 0 || foldText.Equals("true", StringComparison.OrdinalIgnoreCase) ? true
            : foldText.Equals("false", StringComparison.OrdinalIgnoreCase) ? false
            : throw DiagnosticCodes.InvalidModelSetting.Exception(where, $"NeuralModel '{model.ItemSpec}' Fold='{foldText}': use true (fold BatchNorm and Scale into the layers before them) or false (keep the model as read).");

        var pruneText = model.GetMetadata(ModelItem.PruneDeadChannels).Trim();
        var prune = pruneText.Length == 0 || pruneText.Equals("false", StringComparison.OrdinalIgnoreCase) ? false
            : pruneText.Equals("true", StringComparison.OrdinalIgnoreCase) ? true
            : throw DiagnosticCodes.InvalidModelSetting.Exception(where, $"NeuralModel '{model.ItemSpec}' PruneDeadChannels='{pruneText}': use true (remove channels whose output is provably constant) or false.");

        var lowRankText = model.GetMetadata(ModelItem.LowRankFc).Trim();
        LowRankTarget? lowRank = null;
        if (lowRankText.Length > 0)
        {
            try
            {
                lowRank = LowRankTarget.Parse(lowRankText, where);
            }
            catch (NeuralException e)
            {
                throw DiagnosticCodes.InvalidModelSetting.Exception(where, $"NeuralModel '{model.ItemSpec}' LowRankFc: {e.Message}");
            }
        }

        var keepText = model.GetMetadata(ModelItem.KeepClasses).Trim();
        IReadOnlyList<long>? keepClasses = null;
        if (keepText.Length > 0)
        {
            try
            {
                keepClasses = ModelSurgery.ParseClasses(keepText, where);
            }
            catch (NeuralException e)
            {
                throw DiagnosticCodes.InvalidModelSetting.Exception(where, $"NeuralModel '{model.ItemSpec}' KeepClasses: {e.Message}");
            }
        }

        var keepClassesText = keepClasses is null ? string.Empty : string.Join(',', keepClasses);
        var outputsText = string.Join(',', model.GetMetadata(ModelItem.Outputs).Split([',', ';'], StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries));

        var name = model.GetMetadata(ModelItem.Name).Trim();
        if (name.Length == 0)
        {
            name = Path.GetFileNameWithoutExtension(definition);
        }

        var className = Identifier(name);
        var logicalName = model.GetMetadata(ModelItem.LogicalName).Trim().TrimEnd('/');
        if (logicalName.Length == 0)
        {
            logicalName = "NeuralModels/" + className;
        }

        var outputDirectory = Path.Combine(Path.GetFullPath(IntermediateDirectory), className);
        var (export, exportOptions, exportFile) = ResolveExport(model, format, definition, outputDirectory, where);
        var item = new TaskItem(definition);
        model.CopyMetadataTo(item);
        void Set(string key, string value) => item.SetMetadata(key, value);
        Set(ModelItem.DefinitionPath, definition);
        Set(ModelItem.WeightsPath, weights);
        Set(ModelItem.ReferencedFiles, string.Join(";", format.ReferencedFiles(definition)));
        Set(ModelItem.InputShape, inputShape);
        Set(ModelItem.Dialect, formatOptions.GetValueOrDefault(DialectOption, string.Empty));
        Set(ModelItem.ResolvedFormatOptions, FormatOptionsText(formatOptions));
        Set(ModelItem.Verify, verify.ToString());
        Set(ModelItem.ModelVersion, version);
        Set(ModelItem.Embed, embed ? "true" : "false");
        Set(ModelItem.Fold, fold ? "true" : "false");
        Set(ModelItem.PruneDeadChannels, prune ? "true" : "false");
        Set(ModelItem.LowRankFc, lowRank?.ToString() ?? string.Empty);
        Set(ModelItem.KeepClasses, keepClassesText);
        Set(ModelItem.Outputs, outputsText);
        Set(ModelItem.Name, name);
        Set(ModelItem.ClassName, className);
        Set(ModelItem.LogicalName, logicalName);
        Set(ModelItem.OutputDirectory, outputDirectory + Path.DirectorySeparatorChar);
        Set(ModelItem.OptimizedDefinition, Path.Combine(outputDirectory, Path.GetFileName(definition)));
        Set(ModelItem.OptimizedWeights, Path.Combine(outputDirectory, Path.GetFileName(weights)));
        Set(ModelItem.MetricsFile, Path.Combine(outputDirectory, "metrics.json"));
        Set(ModelItem.StampFile, Path.Combine(outputDirectory, "settings.stamp"));
        Set(ModelItem.ReportFile, Path.Combine(outputDirectory, "report.md"));
        Set(ModelItem.HtmlReportFile, Path.Combine(outputDirectory, "report.html"));
        Set(ModelItem.DefinitionResource, logicalName + "/" + Path.GetFileName(definition));
        Set(ModelItem.WeightsResource, logicalName + "/" + Path.GetFileName(weights));
        Set(ModelItem.DefinitionTargetPath, Path.Combine(logicalName, Path.GetFileName(definition)));
        Set(ModelItem.WeightsTargetPath, Path.Combine(logicalName, Path.GetFileName(weights)));
        Set(ModelItem.Export, export);
        Set(ModelItem.ExportOptions, FormatOptionsText(exportOptions));
        Set(ModelItem.ExportFile, exportFile);
        Set(ModelItem.ExportResource, exportFile.Length > 0 ? logicalName + "/" + Path.GetFileName(exportFile) : string.Empty);
        Set(ModelItem.ExportTargetPath, exportFile.Length > 0 ? Path.Combine(logicalName, Path.GetFileName(exportFile)) : string.Empty);
        var evaluationStamp = EvaluationMetadata.Resolve(model, Set, projectDirectory, where);

        // Every setting that changes the optimised files; the stamp is rewritten only when this changes.
        // MSBuild splits on ';' so each setting becomes one line of the stamp file.
        Set(ModelItem.Settings, string.Join(';', (string[])[
            "definition=" + definition,
            "weights=" + weights,
            "inputShape=" + inputShape,
            "formatOptions=" + FormatOptionsText(formatOptions).Replace(";", ",", StringComparison.Ordinal),
            "verify=" + verify,
            "export=" + export,
            "exportOptions=" + FormatOptionsText(exportOptions).Replace(";", ",", StringComparison.Ordinal),
            "fold=" + (fold ? "true" : "false"),
            "pruneDeadChannels=" + (prune ? "true" : "false"),
            "lowRankFc=" + (lowRank?.ToString() ?? string.Empty),
            "keepClasses=" + keepClassesText,
            "outputs=" + outputsText,
            .. evaluationStamp,
            "tasks=" + typeof(NeuralResolveModels).Assembly.GetName().Version]));
        return item;
    }

    /// <summary><c>Quantize</c> is the documented spelling of the export option "quantize".</summary>
    private const string QuantizeOption = "quantize";

    /// <summary><c>Dialect</c> is the documented spelling of the format option "dialect".</summary>
    private const string DialectOption = "dialect";

    /// <summary>
    /// The model's format options (<c>FormatOptions="name=value;…"</c> and <c>Dialect</c>), checked
    /// by the format itself now, so a wrong value fails at the project line, not in the optimiser.
    /// </summary>
    private static IReadOnlyDictionary<string, string> ResolveFormatOptions(ITaskItem model, IModelFormat format, SourceLocation where)
    {
        var texts = new List<string> { model.GetMetadata(ModelItem.FormatOptions) };
        var dialect = model.GetMetadata(ModelItem.Dialect).Trim();
        if (dialect.Length > 0)
        {
            texts.Add($"{DialectOption}={dialect}");
        }

        try
        {
            return format.WithFormatOptions(new ModelReadOptions(), FormatOptions.Parse(texts, where), where).FormatOptions;
        }
        catch (NeuralException e) when (e.Code == DiagnosticCodes.InvalidFormatOption.Code)
        {
            throw DiagnosticCodes.InvalidModelSetting.Exception(where, $"NeuralModel '{model.ItemSpec}': {e.Message}");
        }
    }

    /// <summary>
    /// <c>Export</c> (a format any model can be written in) and its options; the exported file's path,
    /// which is the optimised definition itself when the model is already in that format.
    /// </summary>
    private static (string Export, IReadOnlyDictionary<string, string> Options, string File) ResolveExport(ITaskItem model, IModelFormat format, string definition, string outputDirectory, SourceLocation where)
    {
        var name = model.GetMetadata(ModelItem.Export).Trim();
        var options = FormatOptions.Parse([model.GetMetadata(ModelItem.ExportOptions)], where);
        // Quantize="int8" is the documented spelling of ExportOptions="quantize=int8", as Dialect is of a format option.
        var quantize = model.GetMetadata(ModelItem.Quantize).Trim();
        if (quantize.Length > 0)
        {
            if (name.Length == 0)
            {
                throw DiagnosticCodes.InvalidModelSetting.Exception(where,
                    $"NeuralModel '{model.ItemSpec}' has Quantize='{quantize}' but no Export: quantized weights are stored by an export; set Export to one of: {string.Join(", ", ModelFormats.ExportTargets.Select(f => f.Name))}.");
            }

            if (options.TryGetValue(QuantizeOption, out var given) && !string.Equals(given, quantize, StringComparison.Ordinal))
            {
                throw DiagnosticCodes.InvalidModelSetting.Exception(where,
                    $"NeuralModel '{model.ItemSpec}' has Quantize='{quantize}' and ExportOptions quantize={given}: give it once.");
            }

            options = new Dictionary<string, string>(options, StringComparer.Ordinal) { [QuantizeOption] = quantize };
        }

        if (name.Length == 0)
        {
            return options.Count == 0 ? (string.Empty, options, string.Empty)
                : throw DiagnosticCodes.InvalidModelSetting.Exception(where, $"NeuralModel '{model.ItemSpec}' has ExportOptions but no Export; set Export to one of: {string.Join(", ", ModelFormats.ExportTargets.Select(f => f.Name))}.");
        }

        IModelFormat target;
        IModelExporter exporter;
        try
        {
            (target, exporter) = ModelFormats.ExportTarget(name, where);
        }
        catch (NeuralException e)
        {
            throw DiagnosticCodes.InvalidModelSetting.Exception(where, $"NeuralModel '{model.ItemSpec}' Export='{name}': {e.Message}");
        }

        var file = target.Name == format.Name
            ? Path.Combine(outputDirectory, Path.GetFileName(definition))
            : Path.Combine(outputDirectory, Path.GetFileNameWithoutExtension(definition) + exporter.Extension);
        return (target.Name, options, file);
    }

    internal static string FormatOptionsText(IReadOnlyDictionary<string, string> options) =>
        string.Join(';', options.OrderBy(o => o.Key, StringComparer.Ordinal).Select(o => $"{o.Key}={o.Value}"));

    private T Choice<T>(ITaskItem model, string metadata, T fallback, SourceLocation where)
        where T : struct, Enum
    {
        var text = model.GetMetadata(metadata).Trim();
        if (text.Length == 0)
        {
            return fallback;
        }

        return Enum.TryParse<T>(text, ignoreCase: true, out var value) && Enum.IsDefined(value) && !char.IsAsciiDigit(text[0])
            ? value
            : throw DiagnosticCodes.InvalidModelSetting.Exception(where,
                $"NeuralModel '{model.ItemSpec}' {metadata}='{text}': use one of {string.Join(", ", Enum.GetNames<T>())}.");
    }

    /// <summary>A C# identifier from a model name: <c>yolov3-tiny</c> → <c>Yolov3Tiny</c>, <c>model.fr</c> → <c>ModelFr</c>.</summary>
    internal static string Identifier(string name)
    {
        var sb = new StringBuilder();
        var upper = true;
        foreach (var c in name)
        {
            if (char.IsAsciiLetterOrDigit(c))
            {
                sb.Append(upper ? char.ToUpperInvariant(c) : c);
                upper = false;
            }
            else
            {
                upper = true;
            }
        }

        if (sb.Length == 0 || char.IsAsciiDigit(sb[0]))
        {
            sb.Insert(0, "Model");
        }

        return sb.ToString();
    }
}
