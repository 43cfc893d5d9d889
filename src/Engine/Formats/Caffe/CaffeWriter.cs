using Google.Protobuf;
using NeuralBuild.Engine.Formats.Caffe.Proto;
using NeuralBuild.Engine.Ir;

namespace NeuralBuild.Engine.Formats.Caffe;

/// <summary>
/// Writes a Caffe model after passes: the prototxt and the caffemodel it was read from, edited only
/// where the graph changed.
/// <list type="bullet">
/// <item>A layer whose node a pass removed (BatchNorm, Scale, Dropout folded away) is dropped from
/// both files. The bottoms of the remaining layers are set to the blob of the IR value they now read
/// (nothing changes when BatchNorm and Scale were in place on the conv's top).</item>
/// <item>A conv / deconv / InnerProduct whose initializers a fold replaced gets its new weights and
/// bias blobs; when it gained a bias, its <c>bias_term: false</c> becomes <c>true</c>.</item>
/// <item>Prototxt: the text is edited in place (removed layers cut out with their lines, bottom
/// strings and the bias_term value replaced), so comments and layout survive and the diff shows
/// only what changed. The edited text is parsed back and compared with the intended message; if they
/// differ (a layout the editor does not handle) the whole file is written by <see cref="PrototxtWriter"/>.</item>
/// <item>Caffemodel: the message as read (unknown fields included) with those layers and blobs
/// changed, serialised by Google.Protobuf. Unchanged, it reproduces a canonically serialised file
/// (Caffe's own: fields in number order, packed floats) byte for byte.</item>
/// <item>Both go to <c>.tmp</c> files moved into place at the end; on failure the temps are deleted
/// and nothing is written.</item>
/// </list>
/// </summary>
internal static class CaffeWriter
{
    public static void Write(Model model, string definitionPath, string weightsPath)
    {
        var document = model.SourceDocument as CaffeModel
            ?? throw new InvalidOperationException($"Model '{model.DefinitionPath}' was not read by the Caffe reader; it has no Caffe document to rewrite.");
        var weights = document.Weights
            ?? throw new NotSupportedException($"Model '{model.DefinitionPath}' was opened without its caffemodel; a Caffe model is written with its weights.");
        var edits = CaffeEdits.Plan(model.Graph, document);
        var text = CaffePrototxtEditor.Rewrite(document, edits, model.Graph);
        var newWeights = CaffeWeightsEditor.Rewrite(model.Graph, weights, edits);

        Save(definitionPath, text, weightsPath, newWeights);
    }

    /// <summary>Writes the prototxt text and the caffemodel message, both or neither (<see cref="AtomicFiles"/>).</summary>
    internal static void Save(string definitionPath, string text, string weightsPath, NetParameter weights) =>
        AtomicFiles.Write(
            (definitionPath, temp => File.WriteAllText(temp, text)),
            (weightsPath, temp =>
            {
                using var stream = new FileStream(temp, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 20);
                weights.WriteTo(stream);
            }));
}
