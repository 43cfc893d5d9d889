namespace NeuralBuild.Engine.Formats.Darknet;

/// <summary>What a Darknet writer needs beyond the graph: the cfg as written, the layers, the header.</summary>
public sealed class DarknetModel(CfgDocument cfg, IReadOnlyList<DarknetLayer> layers, DarknetWeightsHeader? header, DarknetDialect dialect)
{
    public CfgDocument Cfg { get; } = cfg;

    public IReadOnlyList<DarknetLayer> Layers { get; } = layers;

    public DarknetWeightsHeader? Header { get; } = header;

    public DarknetDialect Dialect { get; } = dialect;
}
