using NeuralBuild.Engine.Ir;

namespace NeuralBuild.Engine.Formats.Darknet;

/// <summary>
/// What the reader learned about one cfg section: the IR value it outputs and the tensors it
/// stores in the .weights file, in file order.
/// </summary>
public sealed class DarknetLayer(int index, CfgSection section, LayerOrigin origin)
{
    public int Index { get; } = index;

    public CfgSection Section { get; } = section;

    public LayerOrigin Origin { get; } = origin;

    public string Output { get; set; } = string.Empty;

    public Shape OutputShape { get; set; } = new();

    /// <summary>Initializer names in the order darknet reads them from the weights file.</summary>
    public List<string> StoredTensors { get; } = [];
}
