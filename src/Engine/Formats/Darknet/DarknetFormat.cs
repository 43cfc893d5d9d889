using NeuralBuild.Engine.Diagnostics;
using NeuralBuild.Engine.Ir;
using NeuralBuild.Engine.Passes;

namespace NeuralBuild.Engine.Formats.Darknet;

/// <summary>Darknet: a .cfg network definition and a .weights file.</summary>
public sealed class DarknetFormat : IModelFormat
{
    public string Name => "darknet";

    public string DisplayName => "Darknet";

    public IReadOnlyList<FormatOptionInfo> Options { get; } =
        [new(DialectOption, "whose BatchNorm arithmetic counts as the original, alexeyab (default) or pjreddie")];

    public IReadOnlyList<string> Extensions { get; } = [".cfg"];

    public string DefaultWeightsPath(string definitionPath) => Path.ChangeExtension(definitionPath, ".weights");

    public IReadOnlyList<string> ReferencedFiles(string definitionPath) => DarknetClassTree.ReferencedBy(definitionPath);

    public Model Read(string definitionPath, ModelReadOptions options)
    {
        var cfg = CfgDocument.Load(definitionPath);
        return Read(cfg, options);
    }

    /// <summary>
    /// <c>dialect</c>: whose Darknet is the original, <c>alexeyab</c> (default) or <c>pjreddie</c>;
    /// they differ in BatchNorm arithmetic and in a standalone [batchnorm] layer's weights layout.
    /// </summary>
    public ModelReadOptions WithFormatOptions(ModelReadOptions options, IReadOnlyDictionary<string, string> formatOptions, SourceLocation where)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(formatOptions);
        FormatOptions.RequireKnown(this, formatOptions, [DialectOption], where);
        var dialect = options.DarknetDialect;
        if (formatOptions.TryGetValue(DialectOption, out var text))
        {
            dialect = Enum.GetValues<DarknetDialect>().Cast<DarknetDialect?>().FirstOrDefault(d => d.ToString()!.Equals(text, StringComparison.OrdinalIgnoreCase))
                ?? throw DiagnosticCodes.InvalidFormatOption.Exception(where,
                    $"dialect '{text}' is not a Darknet dialect: use one of {string.Join(", ", Enum.GetNames<DarknetDialect>())}.");
        }

        return options with
        {
            DarknetDialect = dialect,
            FormatOptions = new Dictionary<string, string>(StringComparer.Ordinal) { [DialectOption] = dialect.ToString() },
        };
    }

    private const string DialectOption = "dialect";

    public WriterContract WriterContract => DarknetWriterContract.Instance;

    public void Write(Model model, string definitionPath, string weightsPath) => DarknetWriter.Write(model, definitionPath, weightsPath);

    /// <summary>A model read without weights is written with the header of darknet's own fresh networks (version 0.2.0, nothing seen).</summary>
    public void WriteParameters(Model model, string definitionPath, string weightsPath) =>
        DarknetWriter.Write(model, definitionPath, weightsPath, headerWhenNone: new DarknetWeightsHeader(0, 2, 0, 0));

    public Model Read(CfgDocument cfg, ModelReadOptions options)
    {
        var (graph, layers, _) = DarknetGraphBuilder.Build(cfg, options.DarknetDialect, options.InputShape);
        DarknetWeightsHeader? header = null;
        if (options.WeightsPath is { } weights)
        {
            header = DarknetWeightsReader.Attach(weights, graph, layers, options.DarknetDialect);
        }

        return new Model(Name, cfg.Path, options.WeightsPath, graph)
        {
            SourceDocument = new DarknetModel(cfg, layers, header, options.DarknetDialect),
            LayerCount = layers.Count,
        };
    }
}
