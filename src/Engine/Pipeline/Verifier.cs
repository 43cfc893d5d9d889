using NeuralBuild.Engine.Diagnostics;
using NeuralBuild.Engine.Execution;
using NeuralBuild.Engine.Ir;
using NeuralBuild.Engine.Numerics;
using NeuralBuild.Engine.Ops;
using NeuralBuild.Engine.Passes;

namespace NeuralBuild.Engine.Pipeline;

/// <summary>
/// Proves a rewrite: runs the original and the optimised computation on the same seeded random
/// input with the reference executor and compares every output. <c>Layers</c> checks each fold on a
/// small patch (cost independent of model size); <c>Model</c> runs both whole models.
/// </summary>
public static class Verifier
{
    internal const ulong Seed = 0x5EED;

    /// <summary>The original runs as it is, each node with its own kernel: that is what the optimised model is compared against.</summary>
    private static readonly ExecutionOptions AsGiven = new() { FuseEpilogues = false };

    /// <summary>
    /// The optimised model may run its conv epilogues fused: the same bits as its kernels one by one
    /// (tests/Engine.Tests/Execution/EpilogueFusionTests.cs), only faster.
    /// </summary>
    private static readonly ExecutionOptions Fused = new() { FuseEpilogues = true };

    public static VerificationReport VerifyFolds(PassReport passes, double atol, double rtol)
    {
        var comparisons = new List<OutputComparison>();
        foreach (var fold in passes.Folds)
        {
            var patch = PatchShape(fold);
            var input = RandomTensor(patch, Seed + (ulong)fold.Origin.Index);
            var original = RunSubgraph(fold.OriginalNodes, fold.OriginalInitializers, fold.Input, input, AsGiven);
            var replaced = RunSubgraph(fold.ReplacementNodes, fold.ReplacementInitializers, fold.Input, input, Fused);
            var subject = $"layer {fold.Origin.Index} [{fold.Origin.Kind}] {fold.Pass} ({fold.Origin.Location})";
            comparisons.Add(VerificationReport.Compare(subject, $"patch {patch}", original.Shape, replaced.Data, original.Data, atol, rtol));
        }

        return new VerificationReport(VerifyMode.Layers, atol, rtol, comparisons);
    }

    /// <summary>
    /// How many times the rounding floor a whole-model comparison may reach when it is over the
    /// plain tolerance. Measured on ResNet-50 and MobileNet v1/v2 with synthetic weights: correctly
    /// folded models stay within about 1 to 2 times their floor (docs/design-notes.md).
    /// </summary>
    public const double DefaultFloorFactor = 4;

    /// <summary>
    /// Runs both whole models on one seeded input and compares the model outputs and the output
    /// of every layer both graphs still have, so a failure points at the first layer that drifts.
    /// </summary>
    /// <remarks>
    /// Deep networks carry float32 rounding differences forward and amplify them (BatchNorm
    /// divides by small deviations, a residual sum cancels), so a correct fold of ResNet-50 can be
    /// over a fixed tolerance at its last layers. When any comparison is over tolerance, the
    /// original model is run a second time with its conv / FC weights moved by rounding (see
    /// <see cref="RoundingPerturbedData"/>): that run's error on each value is the value's
    /// rounding floor, what float32 alone does to this network. A comparison over tolerance but
    /// within <paramref name="floorFactor"/> times its floor passes, and the report says so. A
    /// wrong fold moves whole channels, orders of magnitude above the floor; the floor of the first
    /// layers is near zero, so a fault is still caught where it starts. 0 turns the floor off.
    /// With <paramref name="inputs"/> (the user's evaluation inputs), both models run on each of them
    /// and each comparison reports its worst input; otherwise on one seeded input.
    /// </remarks>
    public static VerificationReport VerifyModels(Model original, Model optimised, double atol, double rtol, Shape? inputShape = null, double floorFactor = DefaultFloorFactor,
        Evaluation.EvaluationInputs? inputs = null)
    {
        ArgumentNullException.ThrowIfNull(original);
        ArgumentNullException.ThrowIfNull(optimised);
        var declared = original.Graph.Inputs.First().Value;
        if (inputs is null || inputs.IsSynthetic)
        {
            return VerifyModelsOn(original, optimised, atol, rtol, RandomTensor(inputShape ?? declared, Seed), floorFactor);
        }

        // One input at a time: the user's inputs are loaded as they are used, never all at once.
        var worst = new Dictionary<(string, string), OutputComparison>();
        var order = new List<(string, string)>();
        for (var i = 0; i < inputs.Count; i++)
        {
            foreach (var c in VerifyModelsOn(original, optimised, atol, rtol, inputs.Load(i, inputShape ?? declared), floorFactor).Comparisons)
            {
                var key = (c.Subject, c.Output);
                if (!worst.TryGetValue(key, out var seen))
                {
                    order.Add(key);
                }

                if (seen is null || c.WorstExcess > seen.WorstExcess || (c.WorstExcess == seen.WorstExcess && c.MaxAbsoluteError > seen.MaxAbsoluteError))
                {
                    worst[key] = c;
                }
            }
        }

        return new VerificationReport(VerifyMode.Model, atol, rtol, [.. order.Select(k => worst[k])]);
    }

    private static VerificationReport VerifyModelsOn(Model original, Model optimised, double atol, double rtol, Tensor inputTensor, double floorFactor)
    {
        var name = original.Graph.Inputs.First().Key;
        var input = new Dictionary<string, Tensor>(StringComparer.Ordinal) { [name] = inputTensor };
        var optimisedValues = new HashSet<string>(optimised.Graph.Nodes.SelectMany(n => n.Outputs), StringComparer.Ordinal);

        // A value read by a node the passes removed now carries what that node computed (a Caffe
        // conv's top after its BatchNorm and Scale folded in place): it no longer means the same
        // thing in both graphs and is not compared.
        var optimisedNodes = new HashSet<string>(optimised.Graph.Nodes.Select(n => n.Name), StringComparer.Ordinal);
        var absorbed = new HashSet<string>(original.Graph.Nodes.Where(n => !optimisedNodes.Contains(n.Name)).SelectMany(n => n.Inputs), StringComparer.Ordinal);
        var layerOutputs = original.Graph.Nodes
            .GroupBy(n => n.Origin.Index)
            .Select(g => (Layer: g.Last().Origin, Value: g.Last().Outputs[0]))
            .Where(l => optimisedValues.Contains(l.Value) && !absorbed.Contains(l.Value))
            .ToList();
        // The model's outputs are compared by position: once a fold removes the node that produced
        // an output (an ONNX BatchNormalization after a conv), the optimised graph carries it in the
        // producer's value, and the writer gives it the model's output name again.
        var outputs = original.Graph.Outputs.Count == optimised.Graph.Outputs.Count
            ? original.Graph.Outputs.Zip(optimised.Graph.Outputs, (o, a) => (Original: o, Optimised: a)).ToList()
            : [.. original.Graph.Outputs.Where(optimisedValues.Contains).Select(o => (Original: o, Optimised: o))];
        var wanted = layerOutputs.Select(l => l.Value).Union(original.Graph.Outputs, StringComparer.Ordinal).ToList();

        var expected = new ReferenceExecutor(original.Graph, AsGiven).Run(input, wanted);
        var actual = new ReferenceExecutor(optimised.Graph, Fused).Run(input,
            wanted.Where(optimisedValues.Contains).Union(outputs.Select(o => o.Optimised), StringComparer.Ordinal).ToList());
        var compared = outputs
            .Select(o => (Subject: "model output", Value: o.Original, Actual: o.Optimised))
            .Concat(layerOutputs.Select(l => (Subject: $"layer {l.Layer.Index} [{l.Layer.Kind}] ({l.Layer.Location})", l.Value, Actual: l.Value)))
            .ToList();
        // A value whose channels pruning removed has fewer channels than the original's: it is not
        // compared (the model outputs, whose shapes pruning never changes, always are).
        var comparisons = compared
            .Where(c => c.Subject == "model output" || expected[c.Value].Shape.Equals(actual[c.Actual].Shape))
            .Select(c => VerificationReport.Compare(c.Subject, c.Value, expected[c.Value].Shape, actual[c.Actual].Data, expected[c.Value].Data, atol, rtol))
            .ToList();

        comparisons = WithRoundingFloors(comparisons, original.Graph, input, expected, floorFactor);
        return new VerificationReport(VerifyMode.Model, atol, rtol, comparisons);
    }

    /// <summary>
    /// Checks a model surgery: both models run on one seeded input; every output of the edited model
    /// and every renamed value equals the original's value of its old name, and every value a class subset narrowed equals,
    /// kept channel by kept channel, the original's (<see cref="Passes.Surgery.ValueSelection"/>).
    /// Values computed from a narrowed one that are not selections themselves (after a softmax over
    /// the classes, DetectionOutput's renumbered labels) are not comparable and not compared.
    /// </summary>
    public static VerificationReport VerifySurgery(Model original, Model edited, Passes.Surgery.SurgeryResult surgery, double atol, double rtol, Shape? inputShape = null)
    {
        ArgumentNullException.ThrowIfNull(original);
        ArgumentNullException.ThrowIfNull(edited);
        ArgumentNullException.ThrowIfNull(surgery);
        var (name, declared) = original.Graph.Inputs.First();
        var tensor = RandomTensor(inputShape ?? declared, Seed);
        var selected = surgery.Selections.ToDictionary(s => s.Value, StringComparer.Ordinal);
        var producedNow = edited.Graph.Nodes.SelectMany(n => n.Outputs).ToHashSet(StringComparer.Ordinal);
        var wanted = edited.Graph.Outputs.Union(selected.Keys, StringComparer.Ordinal).Union(surgery.Renamed.Keys.Where(producedNow.Contains), StringComparer.Ordinal).ToList();
        var actual = new ReferenceExecutor(edited.Graph, AsGiven).Run(
            new Dictionary<string, Tensor>(StringComparer.Ordinal) { [edited.Graph.Inputs.First().Key] = tensor }, wanted);
        var expected = new ReferenceExecutor(original.Graph, AsGiven).Run(
            new Dictionary<string, Tensor>(StringComparer.Ordinal) { [name] = tensor }, [.. wanted.Select(surgery.OriginalName).Distinct(StringComparer.Ordinal)]);
        // What a narrowed value feeds (a softmax over the kept classes, DetectionOutput's labels) means
        // something else now: only the selections themselves are comparable there.
        var narrowed = new HashSet<string>(selected.Keys, StringComparer.Ordinal);
        foreach (var node in edited.Graph.Nodes.Where(n => n.Inputs.Any(narrowed.Contains)))
        {
            narrowed.UnionWith(node.Outputs);
        }

        var comparisons = new List<OutputComparison>();
        foreach (var value in wanted.Where(v => selected.ContainsKey(v) || !narrowed.Contains(v)))
        {
            var before = expected[surgery.OriginalName(value)];
            var after = actual[value];
            var subject = edited.Graph.Outputs.Contains(value) ? "model output" : selected.ContainsKey(value) ? "kept classes" : $"renamed value (was '{surgery.OriginalName(value)}')";
            if (selected.TryGetValue(value, out var selection))
            {
                comparisons.Add(VerificationReport.Compare(subject, value, after.Shape, after.Data, Gather(before.Data, selection), atol, rtol));
            }
            else if (before.Shape.Equals(after.Shape))
            {
                comparisons.Add(VerificationReport.Compare(subject, value, after.Shape, after.Data, before.Data, atol, rtol));
            }
        }

        return new VerificationReport(VerifyMode.Model, atol, rtol, comparisons);
    }

    /// <summary>The kept indices of <paramref name="values"/> seen as (outer, count, inner).</summary>
    private static float[] Gather(float[] values, Passes.Surgery.ValueSelection selection)
    {
        var outer = values.Length / (selection.Count * selection.Inner);
        var inner = (int)selection.Inner;
        var result = new float[outer * selection.Kept.Length * inner];
        var at = 0;
        for (long o = 0; o < outer; o++)
        {
            foreach (var k in selection.Kept)
            {
                Array.Copy(values, ((o * selection.Count) + k) * inner, result, at, inner);
                at += inner;
            }
        }

        return result;
    }

    /// <summary>
    /// Runs <paramref name="reference"/> with the reference executor and <paramref name="runtime"/> on
    /// the same seeded input and compares each pair of <paramref name="outputs"/> (a value of the
    /// reference graph, the runtime's output that must equal it), with the rounding floor of
    /// <see cref="VerifyModels"/>: another runtime sums in another order, and float32 alone makes
    /// that differ by as much as moving the weights by rounding does.
    /// </summary>
    /// <remarks><paramref name="runtimeInput"/> is the runtime's name for the reference graph's (first) input.</remarks>
    public static VerificationReport VerifyRuntime(Model reference, IModelRuntime runtime, string runtimeInput, IReadOnlyList<(string Value, string RuntimeOutput)> outputs,
        double atol, double rtol, Shape? inputShape = null, double floorFactor = DefaultFloorFactor)
    {
        var (input, expected, actual) = RunBoth(reference, runtime, runtimeInput, outputs, inputShape);
        runtime.Unload();
        var comparisons = outputs
            .Select(o => VerificationReport.Compare($"{runtime.Name} output '{o.RuntimeOutput}'", o.Value, expected[o.Value].Shape, actual[o.RuntimeOutput].Data, expected[o.Value].Data, atol, rtol))
            .ToList();
        comparisons = WithRoundingFloors(comparisons, reference.Graph, input, expected, floorFactor);
        return new VerificationReport(VerifyMode.Model, atol, rtol, comparisons);
    }

    /// <summary>
    /// The check of a lossy export (quantized weights): runs both as <see cref="VerifyRuntime"/> does, on
    /// each of <paramref name="inputs"/> (null: the seeded input), and measures each output's error
    /// relative to its magnitude (<see cref="OutputAccuracy"/>, combined over the inputs), against the
    /// budgets when given. No rounding floor: the error is the quantization's.
    /// </summary>
    public static AccuracyReport MeasureRuntime(Model reference, IModelRuntime runtime, string runtimeInput, IReadOnlyList<(string Value, string RuntimeOutput)> outputs,
        IReadOnlyList<Formats.LossyWeight> weights, double? maxOutputError, Shape? inputShape = null, Evaluation.EvaluationInputs? inputs = null, double? minTop1Agreement = null)
    {
        ArgumentNullException.ThrowIfNull(reference);
        inputs ??= Evaluation.EvaluationInputs.Synthetic(Seed);
        var shape = inputShape ?? reference.Graph.Inputs.First().Value;
        var perOutput = outputs.Select(_ => new List<OutputAccuracy>()).ToArray();
        var perHead = new List<List<Evaluation.BoxAgreement>>();
        for (var i = 0; i < inputs.Count; i++)
        {
            var (_, expected, actual) = RunBoth(reference, runtime, runtimeInput, outputs, shape, inputs.Load(i, shape));
            for (var k = 0; k < outputs.Count; k++)
            {
                var (value, runtimeOutput) = outputs[k];
                perOutput[k].Add(OutputAccuracy.Measure($"{runtime.Name} output '{runtimeOutput}'", runtimeOutput, expected[value].Shape, actual[runtimeOutput].Data, expected[value].Data));
            }

            var heads = DetectionAgreement.Measure(reference.Graph, outputs, expected, actual, runtime.Name).ToList();
            for (var h = 0; h < heads.Count; h++)
            {
                if (perHead.Count <= h)
                {
                    perHead.Add([]);
                }

                perHead[h].Add(heads[h]);
            }
        }

        return new AccuracyReport([.. perOutput.Select(OutputAccuracy.Combine)], maxOutputError, weights)
        {
            MinTop1Agreement = minTop1Agreement,
            MeasuredOn = inputs.Describe(),
            Detections = [.. perHead.Select(Evaluation.BoxAgreement.Combine)],
        };
    }

    /// <summary>The reference graph by the reference executor and the runtime, on one input (null: the seeded one).</summary>
    private static (Dictionary<string, Tensor> Input, IReadOnlyDictionary<string, Tensor> Expected, IReadOnlyDictionary<string, Tensor> Actual) RunBoth(
        Model reference, IModelRuntime runtime, string runtimeInput, IReadOnlyList<(string Value, string RuntimeOutput)> outputs, Shape? inputShape, Tensor? given = null)
    {
        ArgumentNullException.ThrowIfNull(reference);
        ArgumentNullException.ThrowIfNull(runtime);
        ArgumentNullException.ThrowIfNull(outputs);
        var (name, declared) = reference.Graph.Inputs.First();
        var tensor = given ?? RandomTensor(inputShape ?? declared, Seed);
        var input = new Dictionary<string, Tensor>(StringComparer.Ordinal) { [name] = tensor };
        ReleaseUnusedMemory(reference.Graph);
        var expected = new ReferenceExecutor(reference.Graph, AsGiven).Run(input, [.. outputs.Select(o => o.Value).Distinct(StringComparer.Ordinal)]);
        ReleaseUnusedMemory(reference.Graph);
        var actual = runtime.Run(new Dictionary<string, Tensor>(StringComparer.Ordinal) { [runtimeInput] = tensor }, [.. outputs.Select(o => o.RuntimeOutput)]);
        return (input, expected, actual);
    }

    /// <summary>
    /// A whole-model check holds a model's float32 weights per executor (and a runtime its own copy):
    /// hundreds of MB that are garbage once a run is over. Collected and returned to the system before
    /// the next run loads its copy, so peak memory holds one copy at a time rather than whatever the
    /// collector had not yet reclaimed (yolov3, bench/README.md "Export"). Small models (under
    /// <see cref="LargeWeightsBytes"/>) are left to the collector: a forced collection costs more than they hold.
    /// </summary>
    private static void ReleaseUnusedMemory(Graph graph)
    {
        if (graph.Initializers.Values.Sum(i => i.Shape.ElementCount) * sizeof(float) >= LargeWeightsBytes)
        {
            GC.Collect(GC.MaxGeneration, GCCollectionMode.Aggressive, blocking: true, compacting: true);
        }
    }

    private const long LargeWeightsBytes = 64L << 20;

    /// <summary>Each comparison over tolerance gets its value's rounding floor (see <see cref="VerifyModels"/>); 0 turns the floor off.</summary>
    private static List<OutputComparison> WithRoundingFloors(List<OutputComparison> comparisons, Graph original, Dictionary<string, Tensor> input, IReadOnlyDictionary<string, Tensor> expected, double floorFactor)
    {
        if (floorFactor <= 0 || comparisons.All(c => c.Passed))
        {
            return comparisons;
        }

        var overTolerance = comparisons.Where(c => !c.Passed).Select(c => c.Output).ToHashSet(StringComparer.Ordinal);
        ReleaseUnusedMemory(original);
        var rounded = new ReferenceExecutor(WithRoundedWeights(original), AsGiven).Run(input, [.. overTolerance]);
        return comparisons.Select(c => c.Passed ? c : c with
        {
            RoundingFloor = VerificationReport.Compare(c.Subject, c.Output, expected[c.Output].Shape, rounded[c.Output].Data, expected[c.Output].Data, 0, 0).MaxAbsoluteError,
            FloorFactor = floorFactor,
        }).ToList();
    }

    /// <summary>The same graph (nodes shared, nothing copied) with every weight of a conv / FC layer read through <see cref="RoundingPerturbedData"/>.</summary>
    internal static Graph WithRoundedWeights(Graph graph)
    {
        var weighted = graph.Nodes
            .Where(n => n.OpType is "Conv" or "ConvTranspose" or "FullyConnected" or "LocallyConnected" or "MatMul")
            .SelectMany(n => n.Inputs.Skip(1))
            .ToHashSet(StringComparer.Ordinal);
        var seed = Seed;
        return WithWeights(graph, (name, init) => weighted.Contains(name) && init.Data is { } data && init.DataType == DataType.Float32
            ? new RoundingPerturbedData(data, ++seed)
            : null);
    }

    /// <summary>
    /// <see cref="LayerOutputErrors"/> with each layer's origin, the layers that contribute something,
    /// largest first: what an over-budget error names.
    /// </summary>
    public static IReadOnlyList<LayerContribution> LayerContributions(Model model, IReadOnlyList<Formats.LossyWeight> weights, IReadOnlyList<Formats.LossyActivation> activations, Shape? inputShape = null, Evaluation.EvaluationInputs? inputs = null)
    {
        var errors = LayerOutputErrors(model, weights, activations, inputShape, inputs);
        var origins = new Dictionary<int, LayerOrigin>();
        foreach (var node in model.Graph.Nodes)
        {
            origins.TryAdd(node.Origin.Index, node.Origin);
        }

        return [.. errors
            .Where(e => e.Value > 0 && origins.ContainsKey(e.Key))
            .OrderByDescending(e => e.Value)
            .ThenBy(e => e.Key)
            .Select(e => new LayerContribution(origins[e.Key], e.Value))];
    }

    /// <summary>
    /// Per layer an export stored lossily, the output error its own quantization causes alone: the layer's
    /// weights are swapped for the values the export's runtime sees, and the activations that count for it
    /// (<see cref="Formats.LossyActivation.CountsFor"/>: its quantized inputs, and its output when no
    /// quantized layer reads it; a value shared by a producer and a quantized reader counts for the reader)
    /// are rounded through their calibrated scale and zero point as the export rounds them
    /// (<see cref="ActivationRounding"/>); every other weight and activation is kept exact, and the model is
    /// run on the seeded input against itself unchanged; the error is the largest
    /// <see cref="OutputAccuracy.MaxRelativeError"/> over the outputs. One run per layer: what an
    /// over-budget error names as the layers that contribute most. With evaluation inputs, the run is on the
    /// first of them (one input per layer keeps the cost at one forward pass per quantized layer).
    /// </summary>
    public static IReadOnlyDictionary<int, double> LayerOutputErrors(Model model, IReadOnlyList<Formats.LossyWeight> weights, IReadOnlyList<Formats.LossyActivation> activations, Shape? inputShape = null, Evaluation.EvaluationInputs? inputs = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(weights);
        ArgumentNullException.ThrowIfNull(activations);
        var graph = model.Graph;
        var (name, declared) = graph.Inputs.First();
        var input = new Dictionary<string, Tensor>(StringComparer.Ordinal) { [name] = (inputs ?? Evaluation.EvaluationInputs.Synthetic(Seed)).Load(0, inputShape ?? declared) };
        var outputs = graph.Outputs.ToArray();
        var expected = new ReferenceExecutor(graph, AsGiven).Run(input, outputs);
        var storedWeights = weights.Where(w => w.Stored is not null).ToLookup(w => w.Layer.Index);
        var roundedActivations = activations.SelectMany(a => a.CountsFor.Select(layer => (layer.Index, Activation: a))).ToLookup(p => p.Index, p => p.Activation);
        var errors = new Dictionary<int, double>();
        foreach (var layer in storedWeights.Select(g => g.Key).Union(roundedActivations.Select(g => g.Key)).Order())
        {
            var stored = storedWeights[layer].ToDictionary(w => w.Weight, w => w.Stored!, StringComparer.Ordinal);
            var alone = ActivationRounding.With(WithWeights(graph, (weight, _) => stored.GetValueOrDefault(weight)), [.. roundedActivations[layer]]);
            var actual = new ReferenceExecutor(alone, AsGiven).Run(input, outputs);
            errors[layer] = outputs.Max(o => OutputAccuracy.Measure(o, o, expected[o].Shape, actual[o].Data, expected[o].Data).MaxRelativeError);
        }

        return errors;
    }

    /// <summary>The same graph (nodes shared, nothing copied) with the data of the initializers <paramref name="replace"/> answers for (null: kept) replaced.</summary>
    private static Graph WithWeights(Graph graph, Func<string, Initializer, TensorData?> replace)
    {
        var copy = new Graph();
        foreach (var (name, shape) in graph.Inputs)
        {
            copy.Inputs[name] = shape;
        }

        copy.Nodes.AddRange(graph.Nodes);
        copy.Outputs.AddRange(graph.Outputs);
        foreach (var (name, init) in graph.Initializers)
        {
            copy.Initializers[name] = replace(name, init) is { } data ? new Initializer(name, init.Shape, data, init.DataType) : init;
        }

        return copy;
    }

    /// <summary>
    /// One image of a small patch: every output channel (a fold is per channel), padded borders
    /// and interior positions are all exercised, at a cost independent of the model's resolution.
    /// FC layers need their full input.
    /// </summary>
    private static Shape PatchShape(FoldRecord fold)
    {
        var s = fold.InputShape;
        if (fold.OriginalNodes.Any(n => n.OpType == "FullyConnected") || s.Rank != 4)
        {
            return s.WithDim(0, 1);
        }

        var conv = fold.OriginalNodes.First(n => n.OpType is "Conv" or "ConvTranspose");
        var g = conv.AttributesAs<ConvAttributes>().Window;
        long[] k = [g.KernelH, g.KernelW], d = [g.DilationH, g.DilationW], st = [g.StrideH, g.StrideW];
        // A window or stride reaching past the layer's own input (a cfg may say stride=65536 for a
        // 32x32 image) is exercised as well by that input: the patch is never larger than it.
        long Side(int axis) => Math.Min(Math.Max(6, (d[axis] * (k[axis] - 1)) + 1 + (2 * st[axis])), Math.Max(6, s[2 + axis]));
        var patch = Shape.Nchw(1, s.C, Side(0), Side(1));
        return patch.ElementCount <= int.MaxValue ? patch : s.WithDim(0, 1);
    }

    private static Tensor RunSubgraph(IReadOnlyList<Node> nodes, IReadOnlyDictionary<string, Initializer> initializers, string input, Tensor value, ExecutionOptions options)
    {
        var graph = new Graph();
        graph.Inputs[input] = value.Shape;
        foreach (var node in nodes)
        {
            graph.Nodes.Add(node);
        }

        foreach (var (name, init) in initializers)
        {
            graph.Initializers[name] = init;
        }

        var output = nodes[^1].Outputs[0];
        graph.Outputs.Add(output);
        return new ReferenceExecutor(graph, options).Run(new Dictionary<string, Tensor>(StringComparer.Ordinal) { [input] = value })[output];
    }

    /// <summary>Deterministic inputs in [-1, 1) (SplitMix64: no dependence on System.Random's algorithm).</summary>
    internal static Tensor RandomTensor(Shape shape, ulong seed)
    {
        Tensor.RequireExecutable(shape, SourceLocation.None, "the verification input");
        var random = new SplitMix64(seed);
        var data = new float[shape.ElementCount];
        for (var i = 0; i < data.Length; i++)
        {
            data[i] = (float)random.Uniform(-1, 1);
        }

        return new Tensor(shape, data);
    }
}
