using System.Globalization;
using Microsoft.Build.Framework;
using NeuralBuild.Engine.Diagnostics;
using NeuralBuild.Engine.Evaluation;

namespace NeuralBuild.Tasks;

/// <summary>
/// The <c>EvaluationInputs</c> metadata and how its images are prepared (<c>InputMean</c>,
/// <c>InputScale</c> or <c>InputStd</c>, <c>ChannelOrder</c>, <c>InputResize</c>): checked when the
/// models are resolved (a bad value is an error at the project), the path made absolute (relative to
/// the project), and a fingerprint of the files (name, size, time) written into the settings stamp, so
/// adding, removing or changing an input measures the model again.
/// </summary>
internal static class EvaluationMetadata
{
    /// <summary>Checks the metadata, makes the path absolute on the item, and returns the stamp lines (empty when no inputs are given).</summary>
    public static IEnumerable<string> Resolve(ITaskItem model, Action<string, string> set, string projectDirectory, SourceLocation where)
    {
        var preprocessing = Preprocessing(model, where);
        var text = model.GetMetadata(ModelItem.EvaluationInputs).Trim();
        if (text.Length == 0)
        {
            set(ModelItem.EvaluationInputs, string.Empty);
            return [];
        }

        var path = Path.GetFullPath(Path.Combine(projectDirectory, text));
        EvaluationInputs inputs;
        try
        {
            inputs = EvaluationInputs.FromPath(path, preprocessing);
        }
        catch (NeuralException e)
        {
            throw e.Diagnostic.Descriptor.Exception(where, $"NeuralModel '{model.ItemSpec}' EvaluationInputs: {e.Message}");
        }

        set(ModelItem.EvaluationInputs, path);
        var files = inputs.Files.Select(f => string.Create(CultureInfo.InvariantCulture,
            $"{Path.GetFileName(f)}:{new FileInfo(f).Length}:{File.GetLastWriteTimeUtc(f).Ticks}"));
        return ["evaluationInputs=" + path, "preprocessing=" + preprocessing, "evaluationFiles=" + string.Join(',', files)];
    }

    /// <summary>The inputs of a resolved item; null: the seeded synthetic input.</summary>
    public static EvaluationInputs? Inputs(ITaskItem model, SourceLocation where)
    {
        var path = model.GetMetadata(ModelItem.EvaluationInputs);
        return path.Length == 0 ? null : EvaluationInputs.FromPath(path, Preprocessing(model, where));
    }

    private static InputPreprocessing Preprocessing(ITaskItem model, SourceLocation where)
    {
        try
        {
            return InputPreprocessing.Parse(model.GetMetadata(ModelItem.InputMean), model.GetMetadata(ModelItem.InputScale), model.GetMetadata(ModelItem.InputStd),
                model.GetMetadata(ModelItem.ChannelOrder), model.GetMetadata(ModelItem.InputResize), where);
        }
        catch (NeuralException e)
        {
            throw e.Diagnostic.Descriptor.Exception(where, $"NeuralModel '{model.ItemSpec}': {e.Message}");
        }
    }
}
