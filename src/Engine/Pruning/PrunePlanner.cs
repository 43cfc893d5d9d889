using NeuralBuild.Engine.Analysis;
using NeuralBuild.Engine.Diagnostics;
using NeuralBuild.Engine.Execution;
using NeuralBuild.Engine.Formats;
using NeuralBuild.Engine.Ir;
using NeuralBuild.Engine.Passes;
using NeuralBuild.Engine.Pipeline;

namespace NeuralBuild.Engine.Pruning;

/// <summary>What removing some channels saved and cost: exact figures of the pruned graph, and its outputs' error against the original's.</summary>
public sealed record PruneMeasurement(long ParamsSaved, long MaccSaved, long WeightBytesSaved, IReadOnlyList<OutputAccuracy> Outputs);

/// <summary>One conv layer of the plan: its channels ranked, the ones to remove, and what removing them alone does (or why they cannot go).</summary>
public sealed record LayerPrunePlan(string Node, LayerOrigin Origin, long Channels, IReadOnlyList<double> Scores, IReadOnlyList<long> Removed, PruneMeasurement? Alone, string? Refused);

/// <summary>
/// A <c>prune-plan</c>: every conv layer's plan and the cost of removing every plan's channels together
/// (<see cref="TogetherRefused"/>: layers removable alone but not with the others, by node, with the
/// reason). <see cref="Samples"/>: how many inputs it was measured on, <see cref="Seed"/> their first
/// seed when seeded, <see cref="InputSource"/> what they were, in words.
/// </summary>
public sealed record PrunePlan(string ModelPath, string Criterion, int Samples, ulong? Seed, string InputSource, string InputShape, CostFigures Before,
    IReadOnlyList<LayerPrunePlan> Layers, PruneMeasurement? Together, IReadOnlyDictionary<string, string> TogetherRefused, IReadOnlyList<string> Written)
{
    public const int SchemaVersion = 1;
}

/// <summary>
/// Plans lossy channel pruning without retraining: ranks each conv layer's output channels
/// (<see cref="ChannelImportance"/>), removes the least important with <see cref="PruneChannels"/>
/// on a fresh read of the model, one layer at a time and then all together, and measures each result:
/// params, MACC and weight bytes from the cost model on the pruned graph, and each model output's
/// error (<see cref="OutputAccuracy"/>) against the original on the same seeded inputs, both run by
/// the reference executor. Optionally writes the pruned model in its own format as one output set.
/// </summary>
public static class PrunePlanner
{
    private static readonly ExecutionOptions AsGiven = new() { FuseEpilogues = false };

    public static PrunePlan Plan(PrunePlanRequest request, OutputSet? output = null)
    {
        ArgumentNullException.ThrowIfNull(request);
        request.Check();
        var where = new SourceLocation(request.DefinitionPath);
        var format = ModelFormats.ForPath(request.DefinitionPath);
        var weights = ModelOptimizer.RequireWeights(format, request.DefinitionPath, request.WeightsPath);
        var readOptions = format.WithFormatOptions(new ModelReadOptions { WeightsPath = weights, InputShape = request.InputShape }, request.FormatOptions, where);
        Model Read() => FileFailures.Reading(request.DefinitionPath, () => format.Read(request.DefinitionPath, readOptions));

        var original = Read();
        var before = CostModel.Analyze(original);
        var editor = new GraphEditor(original.Graph, format.WriterContract);
        var convs = Scope(editor, request.Layers, where);
        var (inputName, declared) = original.Graph.Inputs.First();
        var inputs = request.Inputs is { } given
            ? Enumerable.Range(0, given.Count).Select(i => given.Load(i, declared)).ToList()
            : Enumerable.Range(0, request.Samples).Select(i => Verifier.RandomTensor(declared, request.Seed + (ulong)i)).ToList();
        var inputSource = request.Inputs is { } described ? described.Describe() : $"{request.Samples} seeded input(s) (seed {request.Seed})";
        var outputs = original.Graph.Outputs.ToArray();
        var layers = convs.Select(c => (Conv: c, Layer: PrunableLayer.Of(editor, c))).ToList();
        var activations = request.Criterion == PruneCriterion.Entropy
            ? Entropies(original.Graph, inputName, inputs, [.. layers.Where(l => l.Layer is not null).Select(l => l.Layer!.Output).Distinct()])
            : null;
        var expected = inputs.Select(i => new ReferenceExecutor(original.Graph, AsGiven).Run(Input(inputName, i), outputs)).ToList();

        var plans = new List<LayerPrunePlan>();
        foreach (var (conv, layer) in layers)
        {
            var channels = editor.Shapes[conv.Outputs[0]][1];
            if (layer is null)
            {
                plans.Add(new LayerPrunePlan(conv.Name, conv.Origin, channels, [], [], null, PrunableLayer.WhyNot(editor, conv)));
                continue;
            }

            var scores = request.Criterion switch
            {
                PruneCriterion.L1 => ChannelImportance.L1(original.Graph, layer),
                PruneCriterion.BnGamma => ChannelImportance.BnGamma(original.Graph, layer),
                _ => activations![layer.Output],
            };
            if (scores is null)
            {
                if (request.Layers is not null)
                {
                    throw DiagnosticCodes.PruneCriterionNeedsBatchNorm.Exception(conv.Origin.Location.HasLine ? conv.Origin.Location : where,
                        $"--criterion bn-gamma ranks channels by their BatchNorm's |gamma|, and layer {conv.Origin.Index} [{conv.Origin.Kind}] '{conv.Name}' has no BatchNorm; use --criterion l1 or entropy for it.");
                }

                plans.Add(new LayerPrunePlan(conv.Name, conv.Origin, channels, [], [], null, "no BatchNorm, so no |gamma| to rank by (use --criterion l1 or entropy)"));
                continue;
            }

            var count = request.Remove ?? Math.Max(1, (int)Math.Floor(request.Fraction * channels));
            if (count >= channels)
            {
                plans.Add(new LayerPrunePlan(conv.Name, conv.Origin, channels, scores, [], null, $"it has {channels} channel(s); removing {count} would leave none"));
                continue;
            }

            var removed = ChannelImportance.LeastImportant(scores, count);
            var (alone, refused) = PruneAndMeasure(Read(), format.WriterContract, new() { [conv.Name] = removed }, before, inputName, inputs, expected);
            plans.Add(new LayerPrunePlan(conv.Name, conv.Origin, channels, scores, removed, alone, refused.GetValueOrDefault(conv.Name)));
        }

        var chosen = plans.Where(p => p.Refused is null && p.Removed.Count > 0).ToDictionary(p => p.Node, p => p.Removed, StringComparer.Ordinal);
        PruneMeasurement? together = null;
        IReadOnlyDictionary<string, string> togetherRefused = new Dictionary<string, string>();
        var written = new List<string>();
        if (chosen.Count > 0)
        {
            var pruned = Read();
            (together, togetherRefused) = PruneAndMeasure(pruned, format.WriterContract, chosen, before, inputName, inputs, expected);
            if (output is not null)
            {
                var definition = output.Stage(Path.GetFileName(request.DefinitionPath));
                var prunedWeights = format.DefaultWeightsPath(definition);
                format.Write(pruned, definition, prunedWeights);
                // Read back: what was written is a model the format reads, of the figures reported.
                var back = FileFailures.Reading(definition, () => format.Read(definition, readOptions with { WeightsPath = prunedWeights }));
                _ = CostModel.Analyze(back);
                written.AddRange(new[] { definition, prunedWeights }.Distinct(StringComparer.Ordinal).Select(output.Final));
            }
        }

        return new PrunePlan(request.DefinitionPath, PrunePlanRequest.NameOf(request.Criterion), inputs.Count, request.Inputs is null ? request.Seed : null, inputSource, declared.ToString(),
            before.Totals, plans, together, togetherRefused, written);
    }

    /// <summary>The conv nodes to plan: all, or those <paramref name="names"/> name (node name, layer name or layer index); an unknown name is NM0382.</summary>
    private static List<Node> Scope(GraphEditor editor, IReadOnlyList<string>? names, SourceLocation where)
    {
        var convs = editor.Graph.Nodes.Where(n => n.OpType == "Conv").ToList();
        if (names is null)
        {
            return convs;
        }

        var chosen = new List<Node>();
        foreach (var name in names)
        {
            var match = convs.Where(n => n.Name == name || n.Origin.Name == name || n.Origin.Index.ToString(System.Globalization.CultureInfo.InvariantCulture) == name).ToList();
            if (match.Count == 0)
            {
                throw DiagnosticCodes.PruneLayerNotFound.Exception(where,
                    $"--layers names '{name}', which is no conv layer of the model; conv layers: {string.Join(", ", convs.Take(12).Select(n => $"{n.Name} (layer {n.Origin.Index})"))}{(convs.Count > 12 ? ", …" : string.Empty)}.");
            }

            chosen.AddRange(match.Where(m => !chosen.Contains(m)));
        }

        return [.. convs.Where(chosen.Contains)];
    }

    /// <summary>Removes <paramref name="channels"/> from <paramref name="model"/> (a fresh read, edited in place) and measures it; the layers the removal refused, with the reason.</summary>
    private static (PruneMeasurement? Measurement, Dictionary<string, string> Refused) PruneAndMeasure(Model model, WriterContract writer,
        Dictionary<string, IReadOnlyList<long>> channels, ModelReport before, string inputName, List<Tensor> inputs, List<IReadOnlyDictionary<string, Tensor>> expected)
    {
        var pass = new PruneChannels(channels);
        var report = PassManager.Run(model.Graph, [pass], writer);
        var refused = new Dictionary<string, string>(pass.Refusals, StringComparer.Ordinal);
        if (report.Pruning.Count == 0)
        {
            return (null, refused);
        }

        var after = CostModel.Analyze(model).Totals;
        var executor = new ReferenceExecutor(model.Graph, AsGiven);
        var outputs = model.Graph.Outputs.ToArray();
        var measured = new List<OutputAccuracy>[outputs.Length];
        for (var o = 0; o < outputs.Length; o++)
        {
            measured[o] = [];
        }

        for (var i = 0; i < inputs.Count; i++)
        {
            var actual = executor.Run(Input(inputName, inputs[i]), outputs);
            for (var o = 0; o < outputs.Length; o++)
            {
                var want = expected[i][outputs[o]];
                measured[o].Add(OutputAccuracy.Measure(outputs[o], outputs[o], want.Shape, actual[outputs[o]].Data, want.Data));
            }
        }

        var accuracy = outputs.Select((name, o) => Combine(name, measured[o])).ToList();
        return (new PruneMeasurement(before.Totals.Params - after.Params, before.Totals.Macc - after.Macc, before.Totals.WeightsBytes - after.WeightsBytes, accuracy), refused);
    }

    /// <summary>One output over several inputs: the largest max error, the mean of the mean errors, the mean agreements.</summary>
    private static OutputAccuracy Combine(string output, List<OutputAccuracy> perInput) => new(
        output, output, perInput.Max(a => a.MaxRelativeError), perInput.Average(a => a.MeanRelativeError),
        perInput[0].Top1Agreement is null ? null : perInput.Average(a => a.Top1Agreement!.Value),
        perInput[0].Top5Agreement is null ? null : perInput.Average(a => a.Top5Agreement!.Value));

    /// <summary>Entropy per channel of each value (<see cref="ChannelImportance"/>): one run per input for the ranges, one for the histograms, so no activation is kept.</summary>
    private static Dictionary<string, double[]> Entropies(Graph graph, string inputName, List<Tensor> inputs, string[] values)
    {
        var executor = new ReferenceExecutor(graph, AsGiven);
        var ranges = new Dictionary<string, (float Min, float Max)[]>(StringComparer.Ordinal);
        var histograms = new Dictionary<string, long[][]>(StringComparer.Ordinal);
        foreach (var pass in (bool[])[false, true])
        {
            foreach (var input in inputs)
            {
                var run = executor.Run(Input(inputName, input), values);
                foreach (var value in values)
                {
                    var tensor = run[value];
                    var channels = (int)tensor.Shape[1];
                    if (!pass)
                    {
                        if (!ranges.TryGetValue(value, out var range))
                        {
                            ranges[value] = range = [.. Enumerable.Repeat((float.PositiveInfinity, float.NegativeInfinity), channels)];
                            histograms[value] = [.. Enumerable.Range(0, channels).Select(_ => new long[ChannelImportance.Bins])];
                        }

                        ChannelImportance.AddToRanges(tensor.Data, tensor.Shape, range);
                    }
                    else
                    {
                        ChannelImportance.AddToHistograms(tensor.Data, tensor.Shape, ranges[value], histograms[value]);
                    }
                }
            }
        }

        return values.ToDictionary(v => v, v => ChannelImportance.Entropy(histograms[v]), StringComparer.Ordinal);
    }

    private static Dictionary<string, Tensor> Input(string name, Tensor tensor) => new(StringComparer.Ordinal) { [name] = tensor };
}
