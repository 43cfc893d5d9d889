using NeuralBuild.Engine.Ir;

namespace NeuralBuild.Engine.Formats;

/// <summary>A model format: how to recognise its files and read them into the IR.</summary>
public interface IModelFormat
{
    /// <summary>Short key ("darknet"), also <see cref="Model.Format"/>.</summary>
    string Name { get; }

    /// <summary>Definition file extensions this format reads, with the dot (".cfg").</summary>
    IReadOnlyList<string> Extensions { get; }

    /// <summary>The weights file used when none is named: same folder and base name.</summary>
    string DefaultWeightsPath(string definitionPath);

    Model Read(string definitionPath, ModelReadOptions options);

    /// <summary>Writes a model read by this format (after passes) as a definition and a weights file.</summary>
    void Write(Model model, string definitionPath, string weightsPath);
}
