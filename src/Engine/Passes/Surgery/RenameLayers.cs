using NeuralBuild.Engine.Diagnostics;
using NeuralBuild.Engine.Ir;

namespace NeuralBuild.Engine.Passes.Surgery;

/// <summary>
/// Renames layers and values: <c>old=new</c> renames the node called <c>old</c> and the value called
/// <c>old</c> (a Caffe layer and its top often share the name), everywhere they are named: node
/// inputs and outputs, the graph's inputs and outputs, initializers.
/// <para>Before: <c>conv1 (node) → conv1 (value) → relu1</c>. After (<c>conv1=stem</c>):
/// <c>stem (node) → stem (value) → relu1</c>.</para>
/// <para>Preconditions: <c>old</c> names a node or a value (NM0364) other than the model's input, <c>new</c> names none yet and no
/// two renames give the same name (NM0366), and the writer can write names (NM0365, Darknet's
/// layers are numbered). Nothing is computed differently, so every value equals the original's of
/// its old name.</para>
/// </summary>
public sealed class RenameLayers(IReadOnlyList<(string From, string To)> renames, SourceLocation where) : GraphPass
{
    public override string Name => "RenameLayers";

    /// <summary>New value name → the old one, for comparing the renamed model with the original.</summary>
    public Dictionary<string, string> RenamedValues { get; } = new(StringComparer.Ordinal);

    public override void Run(GraphEditor graph, PassReport report)
    {
        ArgumentNullException.ThrowIfNull(graph);
        ArgumentNullException.ThrowIfNull(report);
        var g = graph.Graph;
        var nodeNames = g.Nodes.Select(n => n.Name).ToHashSet(StringComparer.Ordinal);
        var valueNames = g.Nodes.SelectMany(n => n.Outputs).Concat(g.Inputs.Keys).Concat(g.Initializers.Keys).ToHashSet(StringComparer.Ordinal);
        var targets = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (from, to) in renames)
        {
            var layers = g.Nodes.Where(n => n.Name == from || n.Origin.Name == from || n.Outputs.Contains(from)).ToList();
            if (layers.Count == 0 && !valueNames.Contains(from))
            {
                throw ChooseOutputs.Unknown(g, from, where);
            }

            if (g.Inputs.ContainsKey(from))
            {
                throw DiagnosticCodes.InvalidEdit.Exception(where, $"--rename {from}={to}: '{from}' is the model's input, which keeps its name (the program that feeds the model names it).");
            }

            if (to.Length == 0 || nodeNames.Contains(to) || valueNames.Contains(to) || !targets.Add(to))
            {
                throw DiagnosticCodes.InvalidEdit.Exception(where, $"--rename {from}={to}: '{to}' is {(to.Length == 0 ? "empty" : "already a name in the model or given twice")}; each new name must be new.");
            }

            foreach (var node in layers)
            {
                if (graph.CannotExpress(node, NodeEdit.Renamed) is { } reason)
                {
                    throw DiagnosticCodes.RenameNotExpressible.Exception(node.Origin.Location, $"--rename {from}={to}: {reason}.");
                }
            }
        }

        foreach (var (from, to) in renames)
        {
            foreach (var node in g.Nodes.Where(n => n.Name == from).ToList())
            {
                node.Name = to;
                Applied(report, node, $"layer '{from}' renamed '{to}'");
            }

            if (valueNames.Contains(from))
            {
                RenameValue(g, from, to);
                RenamedValues[to] = from;
            }
        }
    }

    private static void RenameValue(Graph g, string from, string to)
    {
        foreach (var node in g.Nodes)
        {
            Replace(node.Inputs, from, to);
            Replace(node.Outputs, from, to);
        }


        if (g.Outputs.Contains(from))
        {
            Replace(g.Outputs, from, to);
            g.OutputsChosen = true;
        }

        if (g.Initializers.Remove(from, out var initializer))
        {
            initializer.Name = to;
            g.Initializers[to] = initializer;
        }
    }

    private static void Replace(List<string> names, string from, string to)
    {
        for (var i = 0; i < names.Count; i++)
        {
            if (names[i] == from)
            {
                names[i] = to;
            }
        }
    }
}
