using NeuralBuild.Engine.Ir;

namespace NeuralBuild.Engine.Passes;

/// <summary>
/// Removes nodes that do nothing at inference.
/// <para>Before: <c>X → Dropout → Y</c> (also Identity: Darknet [cost], [empty]; ONNX Identity).</para>
/// <para>After: readers of Y read X.</para>
/// <para>Preconditions: none; a graph output produced by such a node becomes its input.</para>
/// </summary>
public sealed class RemoveDropout : GraphPass
{
    public override string Name => "RemoveDropout";

    public override void Run(Graph graph, PassReport report)
    {
        foreach (var node in graph.Nodes.Where(n => n.OpType is "Dropout" or "Identity").ToList())
        {
            GraphEditing.ReplaceUses(graph, node.Outputs[0], node.Inputs[0]);
            graph.Nodes.Remove(node);
            Applied(report, node, $"removed {node.OpType}; its readers now read '{node.Inputs[0]}'");
        }
    }
}
