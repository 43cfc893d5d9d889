using NeuralBuild.Engine.Diagnostics;
using NeuralBuild.Engine.Formats.Onnx.Proto;

namespace NeuralBuild.Engine.Formats.Onnx;

/// <summary>
/// The checks every later step relies on: each value written once, each input produced, no cycle
/// (then the nodes in dependency order), and each node's inputs as many as its operator takes.
/// </summary>
internal static class OnnxGraphChecks
{
    /// <summary>
    /// Dependency order of the nodes; file order where the file is already sorted. <paramref name="isDefined"/>
    /// is true for a value an initializer or graph input defines.
    /// </summary>
    public static List<int> Schedule(GraphProto g, Func<string, bool> isDefined, SourceLocation location)
    {
        var producer = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var i = 0; i < g.Node.Count; i++)
        {
            foreach (var output in g.Node[i].Output.Where(o => o.Length > 0))
            {
                if (producer.TryGetValue(output, out var other))
                {
                    throw DiagnosticCodes.OnnxDuplicateValue.Exception(location,
                        $"{OnnxNode.Describe(g.Node[i])} writes '{output}', which {OnnxNode.Describe(g.Node[other])} already writes; ONNX graphs are single-assignment.");
                }

                if (isDefined(output))
                {
                    throw DiagnosticCodes.OnnxDuplicateValue.Exception(location,
                        $"{OnnxNode.Describe(g.Node[i])} writes '{output}', which is already an initializer or graph input; ONNX graphs are single-assignment.");
                }

                producer[output] = i;
            }
        }

        var waiting = new int[g.Node.Count];
        var dependents = new List<int>[g.Node.Count];
        for (var i = 0; i < g.Node.Count; i++)
        {
            dependents[i] = [];
        }

        for (var i = 0; i < g.Node.Count; i++)
        {
            foreach (var input in g.Node[i].Input.Where(n => n.Length > 0).Distinct(StringComparer.Ordinal))
            {
                if (producer.TryGetValue(input, out var from))
                {
                    waiting[i]++;
                    dependents[from].Add(i);
                }
                else if (!isDefined(input))
                {
                    throw DiagnosticCodes.OnnxUnknownValue.Exception(location,
                        $"{OnnxNode.Describe(g.Node[i])} reads '{input}', which no node, initializer or graph input produces.");
                }
            }
        }

        var ready = new PriorityQueue<int, int>();
        for (var i = 0; i < waiting.Length; i++)
        {
            if (waiting[i] == 0)
            {
                ready.Enqueue(i, i);
            }
        }

        var order = new List<int>(g.Node.Count);
        while (ready.TryDequeue(out var i, out _))
        {
            order.Add(i);
            foreach (var d in dependents[i])
            {
                if (--waiting[d] == 0)
                {
                    ready.Enqueue(d, d);
                }
            }
        }

        if (order.Count < g.Node.Count)
        {
            var stuck = Enumerable.Range(0, g.Node.Count).Where(i => waiting[i] > 0).Take(5).Select(i => OnnxNode.Describe(g.Node[i]));
            throw DiagnosticCodes.OnnxCycle.Exception(location,
                $"{string.Join(", ", stuck)} depend on each other in a cycle; an ONNX graph must be acyclic.");
        }

        return order;
    }

    /// <summary>Every required input named, no input beyond those the operator takes, a named first output: what every later step indexes.</summary>
    public static void CheckArity(NodeProto node, long opset, SourceLocation location)
    {
        var describe = OnnxNode.Describe(node);
        if (node.Output.Count == 0 || node.Output[0].Length == 0)
        {
            throw DiagnosticCodes.OnnxMissingInput.Exception(location, $"{describe} has no (named) first output.");
        }

        if (OnnxOperatorMap.Arity(node, opset) is not var (required, accepted))
        {
            return;
        }

        if (node.Input.Count > accepted)
        {
            throw DiagnosticCodes.OnnxExtraInput.Exception(location,
                $"{describe} has {node.Input.Count} inputs; {node.OpType} at opset {opset} takes {(accepted == required ? $"{accepted}" : $"at most {accepted}")}.");
        }

        for (var i = 0; i < required; i++)
        {
            if (i >= node.Input.Count || node.Input[i].Length == 0)
            {
                throw DiagnosticCodes.OnnxMissingInput.Exception(location,
                    $"{describe} lacks input {i}{(i < node.Input.Count ? " (its name is empty)" : string.Empty)}; {node.OpType} at opset {opset} requires {required} input{(required == 1 ? string.Empty : "s")}, it has {node.Input.Count(n => n.Length > 0)}.");
            }
        }
    }
}
