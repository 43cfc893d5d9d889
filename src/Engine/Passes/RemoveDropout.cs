using NeuralBuild.Engine.Ops;

namespace NeuralBuild.Engine.Passes;

/// <summary>
/// Removes nodes that do nothing at inference.
/// <para>Before: <c>X → Dropout → Y</c> (also Identity: Darknet [cost], [empty]; ONNX Identity).</para>
/// <para>After: readers of Y read X.</para>
/// <para>Preconditions: none; a graph output produced by such a node becomes its input. An
/// Identity that stands for an ONNX Cast (attribute <c>to</c>) changes the element type and stays.</para>
/// </summary>
public sealed class RemoveDropout : GraphPass
{
    public override string Name => "RemoveDropout";

    public override void Run(GraphEditor graph, PassReport report)
    {
        foreach (var node in graph.Graph.Nodes.Where(n => n.OpType is "Dropout" or "Identity").ToList())
        {
            if (node.AttributesAs<IdentityAttributes>().ChangesElementType)
            {
                NotApplied(report, node, "a Cast changes the element type of its input; removing it would change what its readers receive");
                continue;
            }

            if (graph.CannotExpress(node, NodeEdit.Removed) is { } unwritable)
            {
                NotApplied(report, node, unwritable);
                continue;
            }

            graph.ReplaceUses(node.Outputs[0], node.Inputs[0]);
            graph.Remove(node);
            Applied(report, node, $"removed {node.OpType}; its readers now read '{node.Inputs[0]}'");
        }
    }
}
