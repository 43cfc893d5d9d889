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

    /// <summary>The formats any model can be exported to (<see cref="IModelFormat.Exporter"/>), by <see cref="IModelFormat.Name"/>.</summary>
    public static IReadOnlyList<IModelFormat> ExportTargets => [.. All.Where(f => f.Exporter is not null)];

    /// <summary>The export target named <paramref name="name"/> (case-insensitive); NM0002 at <paramref name="where"/> naming the targets when there is none.</summary>
    public static (IModelFormat Format, IModelExporter Exporter) ExportTarget(string name, SourceLocation where)
    {
        var format = All.FirstOrDefault(f => string.Equals(f.Name, name, StringComparison.OrdinalIgnoreCase));
        return format?.Exporter is { } exporter
            ? (format, exporter)
            : throw DiagnosticCodes.UnknownFormat.Exception(where,
                $"'{name}' is not a format NeuralBuild exports to; export targets: {(ExportTargets.Count == 0 ? "none" : string.Join(", ", ExportTargets.Select(f => f.Name)))}.");
    }

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
