using NeuralBuild.Engine.Diagnostics;
using NeuralBuild.Engine.Ir;
using NeuralBuild.Engine.Passes;

namespace NeuralBuild.Engine.Formats;

/// <summary>
/// A format that can write any model of the IR, not only one it read (<see cref="IModelFormat.Write"/>
/// edits the source file): what <c>convert --to</c> and the build's <c>ExportFormat</c> use.
/// </summary>
public interface IModelExporter
{
    /// <summary>The file extension written, with the dot (".onnx").</summary>
    string Extension { get; }

    /// <summary>The options of the export (<c>opset=15</c>), described for help.</summary>
    IReadOnlyList<FormatOptionInfo> Options { get; }

    /// <summary>What the export can express, for passes run before it.</summary>
    WriterContract Contract { get; }

    /// <summary>The .NET runtime that runs this format, for a generated accessor's <c>CreateSession</c>; null when there is none.</summary>
    ExportRuntimeBinding? Runtime => null;

    /// <summary>
    /// Writes <paramref name="model"/> to <paramref name="path"/> (and any files it needs beside it),
    /// atomically: on a refusal or failure nothing is written and a coded error is thrown. An unknown
    /// or bad option is NM0005 at <paramref name="where"/>.
    /// <c>calibration</c> holds the measured range of each value <see cref="CalibratedValues"/> asked
    /// for (the pipeline runs the model on the evaluation inputs first); null when none was asked for.
    /// </summary>
    ModelExport Export(Model model, string path, IReadOnlyDictionary<string, string> options, SourceLocation where, IReadOnlyDictionary<string, ValueRange>? calibration = null);

    /// <summary>
    /// The values of <paramref name="model"/> whose ranges this export with <paramref name="options"/>
    /// needs measured before it writes (the inputs of the layers whose activations it quantizes); empty
    /// for an export that stores what it is given.
    /// </summary>
    IReadOnlyList<string> CalibratedValues(Model model, IReadOnlyDictionary<string, string> options) => [];
}

/// <summary>The least and greatest value a tensor took over the calibration inputs.</summary>
public readonly record struct ValueRange(float Min, float Max)
{
    /// <summary>This range widened to hold <paramref name="values"/>.</summary>
    public ValueRange Including(ReadOnlySpan<float> values)
    {
        float min = Min, max = Max;
        foreach (var v in values)
        {
            min = Math.Min(min, v);
            max = Math.Max(max, v);
        }

        return new ValueRange(min, max);
    }
}

/// <summary>
/// How generated code creates a session of the runtime that runs an export, when the project references it:
/// the runtime's assembly (by simple name), and the session and options types, fully qualified with
/// <c>global::</c>; the session type has constructors <c>(byte[])</c> and <c>(byte[], options)</c>.
/// </summary>
public sealed record ExportRuntimeBinding(string AssemblyName, string SessionType, string OptionsType);

/// <summary>What one source layer became in an exported file ("Conv 'conv1'", …).</summary>
public sealed record ExportedLayer(LayerOrigin Origin, IReadOnlyList<string> Nodes);

/// <summary>What <see cref="IModelExporter.Export"/> wrote.</summary>
public sealed record ModelExport
{
    /// <summary>Every file written, the model file first.</summary>
    public required IReadOnlyList<string> Files { get; init; }

    /// <summary>The exported file's name for the model's input.</summary>
    public required string InputName { get; init; }

    /// <summary>
    /// The exported file's outputs and the IR value each carries (the model's outputs, or where the format
    /// has no operator for a final layer, that layer's inputs).
    /// </summary>
    public required IReadOnlyList<(string Value, string Output)> Outputs { get; init; }

    public required IReadOnlyList<ExportedLayer> Layers { get; init; }

    public IReadOnlyList<Diagnostic> Warnings { get; init; } = [];

    /// <summary>Settings as written ("opset 13").</summary>
    public string Settings { get; init; } = string.Empty;

    /// <summary>The weights stored lossily (quantized); empty when the export computes exactly what the model computes.</summary>
    public IReadOnlyList<LossyWeight> LossyWeights { get; init; } = [];

    /// <summary>
    /// The values stored lossily on their way into or out of a layer (activations quantized to 8 bits,
    /// calibrated), in the order written; empty when only weights, if anything, are.
    /// </summary>
    public IReadOnlyList<LossyActivation> QuantizedActivations { get; init; } = [];

    /// <summary>True when the file does not compute exactly what the model computes: its check is a measurement against a budget, not an equality.</summary>
    public bool Lossy => LossyWeights.Count > 0 || QuantizedActivations.Count > 0;
}

/// <summary>
/// One weight an export stored lossily: its layer, the encoding ("int8 per channel", "float16"), its bytes
/// before and as written (with scales and zero points), and how far its values moved: RMS(w - stored(w)) / RMS(w).
/// </summary>
public sealed record LossyWeight(LayerOrigin Layer, string Weight, string Encoding, long OriginalBytes, long WrittenBytes, double RelativeError)
{
    /// <summary>
    /// The values as the export's runtime sees them (stored, then turned back into float), computed per
    /// range from the original: what a measurement swaps in to find what this weight alone costs.
    /// </summary>
    public TensorData? Stored { get; init; }
}

/// <summary>
/// One activation an export stores lossily: IR value <paramref name="Value"/> rounded per tensor onto the
/// uint8 grid of <paramref name="Scale"/> and <paramref name="ZeroPoint"/> (q = saturate(round_half_even(x /
/// scale) + zero point) in 0..255, read back as (q - zero point) * scale). <paramref name="Producer"/> is the
/// layer that writes it rounded, so that every reader reads it rounded (null: it is rounded on the way into
/// <paramref name="Readers"/> only, every other reader reading it exact); <paramref name="Readers"/> are the
/// quantized layers that read it rounded. What a measurement rounds to find what a layer's activations cost
/// alone: the value counts for each of its readers (a tensor shared by a producer and a quantized reader counts
/// for the reader), or, read by no quantized layer, for its producer.
/// </summary>
public sealed record LossyActivation(string Value, float Scale, byte ZeroPoint, LayerOrigin? Producer, IReadOnlyList<LayerOrigin> Readers)
{
    /// <summary>The layers whose contribution includes this rounding: its quantized readers, else its producer.</summary>
    public IEnumerable<LayerOrigin> CountsFor => Readers.Count > 0 ? Readers : Producer is { } producer ? [producer] : [];

    public override string ToString() => Value;
}
