using NeuralBuild.Engine.Ir;
using NeuralBuild.Engine.Ops;

namespace NeuralBuild.Engine.Analysis;

/// <summary>
/// Computes the costs of docs/metrics.md for a model: per node from the op's own formula plus the
/// generic terms every node shares (parameters, weight reads, output writes), aggregated per source
/// layer, and the peak live activation memory.
/// </summary>
public static class CostModel
{
    public static ModelReport Analyze(Model model, CountingConvention? convention = null)
    {
        convention ??= CountingConvention.Default;
        var graph = model.Graph;
        var shapes = ShapeInference.Run(graph);
        long BytesOf(string value) => Checked.Mul(shapes[value].ElementCount, DataType.Float32.ByteSize());

        var counted = new HashSet<string>(StringComparer.Ordinal);
        // Per source layer, in layer order. (A dictionary of classes and a sort, not a SortedDictionary
        // of tuples: that generic instantiation is not precompiled, and JIT-compiling its ~100 methods
        // was a measurable part of every short `dotnet neural` process.)
        var perLayer = new Dictionary<int, LayerSum>();
        var sums = new List<LayerSum>();
        var producerLayer = new Dictionary<string, int>(graph.Nodes.Count, StringComparer.Ordinal);
        foreach (var node in graph.Nodes)
        {
            var figures = NodeFigures(node, shapes, graph, counted, convention, BytesOf);
            if (perLayer.TryGetValue(node.Origin.Index, out var sum))
            {
                sum.Last = node;
                sum.Cost += figures;
                sum.Ops.Add(node.OpType);
            }
            else
            {
                sum = new LayerSum(node, figures);
                perLayer[node.Origin.Index] = sum;
                sums.Add(sum);
            }

            foreach (var read in node.Inputs)
            {
                if (producerLayer.TryGetValue(read, out var from) && from != node.Origin.Index && !sum.InputLayers.Contains(from))
                {
                    sum.InputLayers.Add(from);
                }
            }

            foreach (var output in node.Outputs)
            {
                producerLayer[output] = node.Origin.Index;
            }
        }

        sums.Sort(static (a, b) => a.First.Origin.Index.CompareTo(b.First.Origin.Index));
        var layers = sums.Select(e => new LayerReport(
            e.First.Origin.Index,
            e.First.Origin.Kind,
            e.First.Origin.Name,
            e.First.Origin.Location,
            shapes[e.Last.Outputs[0]].ToString(),
            e.Ops,
            e.Cost) { InputLayers = e.InputLayers }).ToList();

        var totals = layers.Aggregate(new CostFigures(), (sum, l) => sum + l.Cost);
        var peak = PeakMemory.Compute(graph, shapes, BytesOf);
        var peakLayer = graph.Nodes.Count > 0 ? graph.Nodes[peak.PeakNodeIndex].Origin.Index : 0;
        var input = graph.Inputs.Values.FirstOrDefault()?.ToString() ?? string.Empty;
        return new ModelReport(model.DefinitionPath, model.Format, input, convention, layers, totals, peak.PeakBytes, peakLayer);
    }

    private static CostFigures NodeFigures(Node node, Dictionary<string, Shape> shapes, Graph graph, HashSet<string> counted, CountingConvention convention, Func<string, long> bytesOf)
    {
        using var scope = Checked.At(node.Origin.Location);
        var kind = OpRegistry.Get(node);
        var inputShapes = node.Inputs.Select(i => i.Length == 0 ? null : shapes[i]).ToList();
        var outputShapes = node.Outputs.Select(o => shapes[o]).ToList();
        var cost = kind.Cost(new OpContext(node, inputShapes, outputShapes));

        long parameters = 0, weightBytes = 0, weightReads = 0, inputReads = 0;
        foreach (var input in node.Inputs.Where(i => i.Length > 0))
        {
            if (graph.Initializers.TryGetValue(input, out var initializer))
            {
                var elements = initializer.Shape.ElementCount;
                weightReads = Checked.Add(weightReads, elements);
                if (!initializer.Stated && counted.Add(input))
                {
                    // A weight shared by several layers (share_index) is stored once.
                    parameters = Checked.Add(parameters, elements);
                    weightBytes = Checked.Add(weightBytes, initializer.ByteSize);
                }
            }
            else
            {
                inputReads = Checked.Add(inputReads, shapes[input].ElementCount);
            }
        }

        var outputWrites = outputShapes.Aggregate(0L, (sum, s) => Checked.Add(sum, s.ElementCount));
        var idealReads = cost.IdealInputReads ?? inputReads;
        var naiveReads = cost.NaiveInputReads ?? idealReads;
        var traffic = !cost.NoMemoryTraffic;
        return new CostFigures
        {
            Params = parameters,
            Macc = cost.Macc,
            Flops = convention.Flops(node, cost),
            MemoryAccess = traffic ? Checked.Add(Checked.Add(naiveReads, outputWrites), weightReads) : 0,
            MemoryAccessIdeal = traffic ? Checked.Add(Checked.Add(idealReads, outputWrites), weightReads) : 0,
            ActivationBytes = node.InPlace ? 0 : node.Outputs.Aggregate(0L, (sum, o) => Checked.Add(sum, bytesOf(o))),
            WeightsBytes = weightBytes,
            Secondary = cost.Flops,
        };
    }

    private sealed class LayerSum(Node first, CostFigures cost)
    {
        public Node First { get; } = first;

        public Node Last { get; set; } = first;

        public CostFigures Cost { get; set; } = cost;

        public List<string> Ops { get; } = [first.OpType];

        public List<int> InputLayers { get; } = [];
    }
}
