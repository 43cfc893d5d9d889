namespace NeuralBuild.Tasks;

/// <summary>
/// Metadata names of the items the tasks pass between targets. The public ones are the surface
/// documented in docs/item-metadata.md (<c>Weights</c>, <c>InputShape</c>, …); the resolved ones are written by
/// <see cref="NeuralResolveModels"/> and read by the other tasks.
/// </summary>
internal static class ModelItem
{
    // Public metadata of NeuralModel.
    public const string Weights = "Weights";
    public const string InputShape = "InputShape";
    public const string ModelVersion = "ModelVersion";
    public const string Embed = "Embed";
    public const string LogicalName = "LogicalName";
    public const string Verify = "Verify";
    public const string Dialect = "Dialect";

    /// <summary><c>false</c>: no lossless folds, the model is written (and exported) as read (<see cref="Engine.Pipeline.OptimizeRequest.Fold"/>); default <c>true</c>.</summary>
    public const string Fold = "Fold";

    /// <summary><c>true</c>: remove provably constant channels after the folds (<see cref="Engine.Pipeline.OptimizeRequest.PruneDeadChannels"/>).</summary>
    public const string PruneDeadChannels = "PruneDeadChannels";

    /// <summary><c>0.99</c> or <c>rank:N</c>: write fully connected layers as two thinner ones (<see cref="Engine.Pipeline.OptimizeRequest.LowRankFc"/>); empty: no.</summary>
    public const string LowRankFc = "LowRankFc";

    /// <summary><c>0,1,2</c>: keep only these classes of the model's heads (<see cref="Engine.Passes.Surgery.ModelSurgery.KeepClasses"/>); empty: all.</summary>
    public const string KeepClasses = "KeepClasses";

    /// <summary><c>a,b</c>: these values or layers become the model's outputs (<see cref="Engine.Passes.Surgery.ModelSurgery.Outputs"/>); empty: the model's own.</summary>
    public const string Outputs = "Outputs";

    /// <summary>The model format's own options, <c>name=value;…</c> (<c>Dialect</c> is the documented spelling of one).</summary>
    public const string FormatOptions = "FormatOptions";
    public const string Name = "Name";

    /// <summary>A format to export the optimised model to as well (an export target's name), embedded beside it.</summary>
    public const string Export = "Export";

    /// <summary><c>fp16</c> or <c>int8</c>: the export stores conv, deconv, FC and MatMul weights so (needs <see cref="Export"/>); <c>int8-static</c>: int8 weights and those layers' inputs and outputs as uint8, calibrated on <c>EvaluationInputs</c>; its output error is measured and budgeted by <c>MaxOutputError</c>.</summary>
    public const string Quantize = "Quantize";

    /// <summary>Options of the export, <c>name=value;…</c> (<c>opset=15</c>).</summary>
    public const string ExportOptions = "ExportOptions";

    /// <summary>A folder (or one file) of .npy tensors and images a lossy export is measured on (<see cref="EvaluationMetadata"/>); empty: the seeded synthetic input.</summary>
    public const string EvaluationInputs = "EvaluationInputs";

    /// <summary>How images become inputs: per-channel mean, scale or std (pixels in [0, 1]), channel order rgb|bgr, resize stretch|letterbox.</summary>
    public const string InputMean = "InputMean";
    public const string InputScale = "InputScale";
    public const string InputStd = "InputStd";
    public const string ChannelOrder = "ChannelOrder";
    public const string InputResize = "InputResize";

    // Resolved metadata.
    public const string DefinitionPath = "DefinitionPath";
    public const string WeightsPath = "WeightsPath";
    public const string OutputDirectory = "OutputDirectory";
    public const string OptimizedDefinition = "OptimizedDefinition";
    public const string OptimizedWeights = "OptimizedWeights";
    public const string MetricsFile = "MetricsFile";
    public const string StampFile = "StampFile";
    public const string ReferencedFiles = "ReferencedFiles";

    /// <summary>The build's report of the model (<c>report.md</c>), rewritten by the check step only when its text changes.</summary>
    public const string ReportFile = "ReportFile";

    /// <summary>The same report as one self-contained HTML file (<c>report.html</c>): the graph, per-layer charts, budgets and baseline.</summary>
    public const string HtmlReportFile = "HtmlReportFile";
    public const string Settings = "Settings";

    /// <summary>The format options as the format spelled them back (<c>dialect=AlexeyAB</c>), after checking them.</summary>
    public const string ResolvedFormatOptions = "ResolvedFormatOptions";
    public const string ClassName = "ClassName";
    public const string DefinitionResource = "DefinitionResource";
    public const string WeightsResource = "WeightsResource";
    public const string DefinitionTargetPath = "DefinitionTargetPath";
    public const string WeightsTargetPath = "WeightsTargetPath";

    /// <summary>The exported file (empty without <see cref="Export"/>; the optimised definition when the model is already in that format).</summary>
    public const string ExportFile = "ExportFile";
    public const string ExportResource = "ExportResource";
    public const string ExportTargetPath = "ExportTargetPath";
}
