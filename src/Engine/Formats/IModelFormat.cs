using NeuralBuild.Engine.Diagnostics;
using NeuralBuild.Engine.Ir;

namespace NeuralBuild.Engine.Formats;

/// <summary>A model format: how to recognise its files and read them into the IR.</summary>
public interface IModelFormat
{
    /// <summary>Short key ("darknet"), also <see cref="Model.Format"/>.</summary>
    string Name { get; }

    /// <summary>How people name the format ("Darknet"), for help and messages.</summary>
    string DisplayName { get; }

    /// <summary>The options only this format takes (<see cref="WithFormatOptions"/>), described for help.</summary>
    IReadOnlyList<FormatOptionInfo> Options { get; }

    /// <summary>Definition file extensions this format reads, with the dot (".cfg").</summary>
    IReadOnlyList<string> Extensions { get; }

    /// <summary>The weights file used when none is named: same folder and base name.</summary>
    string DefaultWeightsPath(string definitionPath);

    Model Read(string definitionPath, ModelReadOptions options);

    /// <summary>
    /// The other files reading <paramref name="definitionPath"/> reads (Darknet's class tree of a
    /// hierarchical softmax), those that exist: the build's incremental check treats them as inputs
    /// of the model. Cheap and never failing on a malformed definition (the read reports that).
    /// </summary>
    IReadOnlyList<string> ReferencedFiles(string definitionPath) => [];

    /// <summary>
    /// Applies options only this format understands, given as generic <c>name=value</c> pairs by the
    /// build (item metadata) and the tool (<c>--option</c>), so neither needs to know the format: returns
    /// <paramref name="options"/> with them parsed into their typed form and their canonical spelling in
    /// <see cref="ModelReadOptions.FormatOptions"/>. An unknown name or value is NM0005 at <paramref name="where"/>.
    /// </summary>
    ModelReadOptions WithFormatOptions(ModelReadOptions options, IReadOnlyDictionary<string, string> formatOptions, SourceLocation where);

    /// <summary>What <see cref="Write"/> can express of a graph the passes changed; passes consult it before they edit.</summary>
    Passes.WriterContract WriterContract { get; }

    /// <summary>Writes any model of the IR in this format (<c>convert --to</c>); null when the format writes only models it read.</summary>
    IModelExporter? Exporter => null;

    /// <summary>Writes a model read by this format (after passes) as a definition and a weights file.</summary>
    void Write(Model model, string definitionPath, string weightsPath);

    /// <summary>
    /// Writes a model read by this format whose layers are as read but whose parameters were given
    /// values (a transplant, <see cref="Surgery.Transplant"/>): the definition as read, and weights
    /// holding every initializer's <see cref="Initializer.Data"/>. The model may have been read
    /// without weights. A format whose <see cref="Write"/> writes every parameter inherits this.
    /// </summary>
    void WriteParameters(Model model, string definitionPath, string weightsPath) => Write(model, definitionPath, weightsPath);
}
