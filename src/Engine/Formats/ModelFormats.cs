using NeuralBuild.Engine.Diagnostics;
using NeuralBuild.Engine.Formats.Caffe;
using NeuralBuild.Engine.Formats.Darknet;
using NeuralBuild.Engine.Formats.Onnx;
using NeuralBuild.Engine.Ir;

namespace NeuralBuild.Engine.Formats;

/// <summary>The formats NeuralBuild reads, in one explicit list. Tasks and the tool go through here.</summary>
public static class ModelFormats
{
    public static IReadOnlyList<IModelFormat> All { get; } =
    [
        new DarknetFormat(),
        new CaffeFormat(),
        new OnnxFormat(),
    ];

    /// <summary>The definition files NeuralBuild reads, for help text: "Darknet .cfg, Caffe .prototxt or ONNX .onnx".</summary>
    public static string DefinitionKinds
    {
        get
        {
            var kinds = All.Select(f => $"{f.DisplayName} {string.Join("/", f.Extensions)}").ToList();
            return kinds.Count == 1 ? kinds[0] : $"{string.Join(", ", kinds.SkipLast(1))} or {kinds[^1]}";
        }
    }

    /// <summary>The format that takes the option <paramref name="name"/>, and the option; null when none does.</summary>
    public static (IModelFormat Format, FormatOptionInfo Option)? FindOption(string name) =>
        All.SelectMany(f => f.Options.Select(o => (f, o))).Where(p => p.o.Name == name).Select(p => ((IModelFormat, FormatOptionInfo)?)p).FirstOrDefault();

    public static IModelFormat ForPath(string definitionPath)
    {
        var extension = Path.GetExtension(definitionPath);
        return All.FirstOrDefault(f => f.Extensions.Contains(extension, StringComparer.OrdinalIgnoreCase))
            ?? throw DiagnosticCodes.UnknownFormat.Exception(new SourceLocation(definitionPath),
                $"'{Path.GetFileName(definitionPath)}' is not a model NeuralBuild reads; supported: {string.Join(", ", All.SelectMany(f => f.Extensions))}.");
    }

    public static Model Read(string definitionPath, ModelReadOptions? options = null)
    {
        var format = ForPath(definitionPath);
        return FileFailures.Reading(definitionPath, () => format.Read(definitionPath, options ?? new ModelReadOptions()));
    }
}
