using NeuralBuild.Engine.Ir;

namespace NeuralBuild.Engine.Formats.Darknet;

/// <summary>Darknet: a .cfg network definition and a .weights file.</summary>
public sealed class DarknetFormat : IModelFormat
{
    public string Name => "darknet";

    public IReadOnlyList<string> Extensions { get; } = [".cfg"];

    public string DefaultWeightsPath(string definitionPath) => Path.ChangeExtension(definitionPath, ".weights");

    public Model Read(string definitionPath, ModelReadOptions options)
    {
        var cfg = CfgDocument.Load(definitionPath);
        return Read(cfg, options);
    }

    public void Write(Model model, string definitionPath, string weightsPath) => DarknetWriter.Write(model, definitionPath, weightsPath);

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
