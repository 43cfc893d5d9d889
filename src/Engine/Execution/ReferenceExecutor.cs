using NeuralBuild.Engine.Analysis;
using NeuralBuild.Engine.Ir;

namespace NeuralBuild.Engine.Execution;

/// <summary>
/// Runs a graph on concrete inputs, node by node, with kernels that compute what the source
/// framework computes (Darknet's CPU forward pass for Darknet models). It is the proof behind
/// fusion: the original and the rewritten graph run on the same input and their outputs are compared.
/// <para>
/// Memory: only the nodes the requested outputs depend on run; a value's buffer goes back to a
/// pool after its last reader, and element-wise kernels (BatchNorm, activations, …) overwrite
/// their input when nothing else reads it later, as darknet does. Weights are read from the model
/// files on first use and kept for later runs, as are derived forms (packed convolution weights).
/// </para>
/// </summary>
public sealed class ReferenceExecutor
{
    private readonly Graph _graph;
    private readonly ParallelOptions _parallel;
    private readonly NodeStateCache _states = new();
    private readonly Dictionary<string, Lazy<Tensor>> _initializers = new(StringComparer.Ordinal);
    private readonly Dictionary<string, int> _producers = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Dictionary<string, Shape>> _shapeCache = new(StringComparer.Ordinal);
    private readonly Lock _shapeLock = new();
    private readonly Lock _poolLock = new();

    /// <summary>
    /// Buffers of the previous run, reused by the next one at the same input size: a run at a fixed
    /// size then allocates nothing but the outputs it returns. Holds at most the model's peak
    /// activation memory; dropped when the input size changes.
    /// </summary>
    private (Dictionary<string, Shape> Shapes, Dictionary<int, Stack<float[]>> Buffers)? _pool;

    public ReferenceExecutor(Graph graph, ExecutionOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(graph);
        _graph = graph;
        var threads = options?.MaxDegreeOfParallelism ?? Environment.ProcessorCount;
        if (threads <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(options), threads, "MaxDegreeOfParallelism must be positive.");
        }

        _parallel = new ParallelOptions { MaxDegreeOfParallelism = threads };
        foreach (var (name, initializer) in graph.Initializers)
        {
            _initializers[name] = new Lazy<Tensor>(() => Load(initializer), LazyThreadSafetyMode.ExecutionAndPublication);
        }

        for (var i = 0; i < graph.Nodes.Count; i++)
        {
            foreach (var output in graph.Nodes[i].Outputs)
            {
                _producers[output] = i;
            }
        }
    }

    /// <summary>
    /// Runs the graph. <paramref name="inputs"/> names every graph input; its spatial size may
    /// differ from the declared one (shapes are inferred again). Returns the requested values
    /// (default: the graph outputs); the caller owns the returned tensors.
    /// </summary>
    public IReadOnlyDictionary<string, Tensor> Run(IReadOnlyDictionary<string, Tensor> inputs, IReadOnlyCollection<string>? outputs = null)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        foreach (var name in inputs.Keys)
        {
            if (!_graph.Inputs.ContainsKey(name))
            {
                throw new ArgumentException($"'{name}' is not an input of the graph (inputs: {string.Join(", ", _graph.Inputs.Keys)}).", nameof(inputs));
            }
        }

        var shapes = InferShapes(inputs);
        var requested = new HashSet<string>(outputs ?? (IReadOnlyCollection<string>)_graph.Outputs, StringComparer.Ordinal);
        foreach (var name in requested)
        {
            if (!shapes.ContainsKey(name))
            {
                throw new ArgumentException($"'{name}' is not a value of the graph.", nameof(outputs));
            }
        }

        var plan = Plan(requested);
        var run = new RunState(inputs, requested, plan.LastUse, TakePool(shapes));
        foreach (var index in plan.Nodes)
        {
            if (!plan.Fused.Contains(index))
            {
                Execute(index, shapes, run, plan.Fusions.GetValueOrDefault(index));
            }
        }

        var results = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        foreach (var name in requested)
        {
            results[name] = run.Live.TryGetValue(name, out var tensor) ? tensor
                : _initializers.TryGetValue(name, out var initializer) ? new Tensor(initializer.Value.Shape, (float[])initializer.Value.Data.Clone())
                : throw new InvalidOperationException($"'{name}' was not computed.");
        }

        ReturnPool(run.Pool, shapes);
        return results;
    }

    private Dictionary<int, Stack<float[]>> TakePool(Dictionary<string, Shape> shapes)
    {
        lock (_poolLock)
        {
            var pool = _pool is { } kept && ReferenceEquals(kept.Shapes, shapes) ? kept.Buffers : [];
            _pool = null;
            return pool;
        }
    }

    private void ReturnPool(Dictionary<int, Stack<float[]>> buffers, Dictionary<string, Shape> shapes)
    {
        lock (_poolLock)
        {
            _pool = (shapes, buffers);
        }
    }

    private Dictionary<string, Shape> InferShapes(IReadOnlyDictionary<string, Tensor> inputs)
    {
        var inputShapes = new Dictionary<string, Shape>(StringComparer.Ordinal);
        foreach (var name in _graph.Inputs.Keys)
        {
            inputShapes[name] = inputs.TryGetValue(name, out var tensor)
                ? tensor.Shape
                : throw new ArgumentException($"Graph input '{name}' is not given.", nameof(inputs));
        }

        var key = string.Join(";", inputShapes.OrderBy(kv => kv.Key, StringComparer.Ordinal).Select(kv => $"{kv.Key}={kv.Value}"));
        lock (_shapeLock)
        {
            if (!_shapeCache.TryGetValue(key, out var shapes))
            {
                shapes = ShapeInference.Run(_graph, inputShapes);
                foreach (var node in _graph.Nodes)
                {
                    foreach (var output in node.Outputs)
                    {
                        Tensor.RequireExecutable(shapes[output], node.Origin.Location, $"layer {node.Origin.Index} [{node.Origin.Kind}] '{node.Name}': output '{output}'");
                    }
                }

                _shapeCache[key] = shapes;
            }

            return shapes;
        }
    }

    /// <summary>
    /// The nodes the requested values depend on, in order, each value's last reader, and the
    /// Conv → BatchNormalization → Activation chains run as one convolution with an epilogue.
    /// </summary>
    private ExecutionPlan Plan(HashSet<string> requested)
    {
        var needed = new bool[_graph.Nodes.Count];
        var pending = new Stack<string>(requested);
        var seen = new HashSet<string>(StringComparer.Ordinal);
        while (pending.Count > 0)
        {
            var value = pending.Pop();
            if (!seen.Add(value) || !_producers.TryGetValue(value, out var producer) || needed[producer])
            {
                continue;
            }

            needed[producer] = true;
            foreach (var input in _graph.Nodes[producer].Inputs)
            {
                if (input.Length > 0)
                {
                    pending.Push(input);
                }
            }
        }

        var nodes = new List<int>();
        var lastUse = new Dictionary<string, int>(StringComparer.Ordinal);
        var readers = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var i = 0; i < needed.Length; i++)
        {
            if (!needed[i])
            {
                continue;
            }

            nodes.Add(i);
            foreach (var input in _graph.Nodes[i].Inputs)
            {
                if (input.Length > 0)
                {
                    lastUse[input] = i;
                    readers[input] = readers.GetValueOrDefault(input) + 1;
                }
            }
        }

        var plan = new ExecutionPlan(nodes, lastUse);
        foreach (var index in nodes)
        {
            if (_graph.Nodes[index].OpType == "Conv")
            {
                PlanFusion(index, requested, readers, lastUse, plan);
            }
        }

        return plan;
    }

    /// <summary>
    /// Fuses the BatchNormalization and/or Activation that alone read a convolution's output (and
    /// the BatchNorm's), when nobody asked for the values in between: darknet's conv layer as one
    /// pass. The values in between are then never materialised.
    /// </summary>
    private void PlanFusion(int convIndex, HashSet<string> requested, Dictionary<string, int> readers, Dictionary<string, int> lastUse, ExecutionPlan plan)
    {
        Node? SoleReader(string value) =>
            !requested.Contains(value) && readers.GetValueOrDefault(value) == 1 && lastUse.TryGetValue(value, out var reader) ? _graph.Nodes[reader] : null;

        var output = _graph.Nodes[convIndex].Outputs[0];
        var next = SoleReader(output);
        int? batchNorm = null, activation = null;
        if (next is { OpType: "BatchNormalization" } && next.Inputs[0] == output && next.Outputs.Count == 1
            && next.Inputs.Skip(1).All(i => i.Length == 0 || _initializers.ContainsKey(i)))
        {
            batchNorm = lastUse[output];
            output = next.Outputs[0];
            next = SoleReader(output);
        }

        if (next is { OpType: "Activation" } && next.Inputs.Count == 1 && next.Outputs.Count == 1 && next.Attributes.String("function", string.Empty) != "prelu")
        {
            activation = lastUse[output];
            output = next.Outputs[0];
        }

        if (batchNorm is null && activation is null)
        {
            return;
        }

        plan.Fusions[convIndex] = new Fusion(batchNorm is { } b ? _graph.Nodes[b] : null, activation is { } a ? _graph.Nodes[a] : null, output);
        foreach (var fused in new[] { batchNorm, activation })
        {
            if (fused is { } f)
            {
                plan.Fused.Add(f);
            }
        }
    }

    private void Execute(int index, Dictionary<string, Shape> shapes, RunState run, Fusion? fusion)
    {
        var node = _graph.Nodes[index];
        var kernel = KernelRegistry.Get(node);
        // Computed values are at hand; weights (other than input 0) load when the kernel asks.
        var inputs = new Tensor?[node.Inputs.Count];
        for (var i = 0; i < inputs.Length; i++)
        {
            var name = node.Inputs[i];
            inputs[i] = name.Length == 0 ? null
                : run.Live.TryGetValue(name, out var live) ? live
                : _initializers.TryGetValue(name, out var initializer) ? (i == 0 ? run.Protect(initializer.Value) : null)
                : throw new InvalidOperationException($"node '{node.Name}' reads '{name}', which is not computed yet.");
        }

        var outputNames = fusion is null ? node.Outputs : [fusion.Output];
        var outputs = new Tensor[outputNames.Count];
        for (var i = 0; i < outputs.Length; i++)
        {
            var shape = shapes[outputNames[i]];
            if (i == 0 && inputs.Length > 0 && inputs[0] is { } first && first.Shape.Equals(shape)
                && (kernel.IsPassThrough || (kernel.SupportsInPlace && run.CanOverwrite(node.Inputs[0], first, index))))
            {
                outputs[i] = new Tensor(shape, first.Data);
            }
            else
            {
                outputs[i] = new Tensor(shape, run.Rent(shape));
            }
        }

        if (!kernel.IsPassThrough)
        {
            var epilogue = fusion is null ? null : Epilogue(fusion, shapes[fusion.Output], run);
            var weights = new WeightSource(
                name => !run.Live.ContainsKey(name) && _initializers.ContainsKey(name),
                name => run.Protect(_initializers[name].Value),
                (name, destination) => CopyWeight(name, destination));
            kernel.Run(new KernelContext(node, inputs, outputs, _parallel, _states, weights, epilogue));
        }

        for (var i = 0; i < outputs.Length; i++)
        {
            run.Live[outputNames[i]] = outputs[i];
        }

        foreach (var name in node.Inputs)
        {
            run.Release(name, index);
        }

        foreach (var name in outputNames)
        {
            run.ReleaseUnread(name);
        }
    }

    /// <summary>The epilogue of a fused convolution, from the BatchNorm's statistics and the activation's attributes.</summary>
    private ConvEpilogue Epilogue(Fusion fusion, Shape output, RunState run)
    {
        float[]? mean = null, denominator = null, gamma = null, beta = null;
        if (fusion.BatchNorm is { } bn)
        {
            float[]? Statistic(int input) => bn.Inputs[input].Length == 0 ? null : run.Protect(_initializers[bn.Inputs[input]].Value).Data;
            beta = Statistic(2);
            mean = Statistic(3);
            var variance = Statistic(4);
            var channels = output.Rank > 1 ? output[1] : 1;
            gamma = Statistic(1) ?? Primitives.ChannelNormalization.Ones((int)channels);
            if (mean is null || variance is null || gamma.Length != channels || mean.Length != channels || variance.Length != channels || (beta is not null && beta.Length != channels))
            {
                throw new InvalidOperationException($"layer {bn.Origin.Index} [{bn.Origin.Kind}] '{bn.Name}': BatchNorm statistics do not match {channels} channels.");
            }

            var (epsilon, outside) = Primitives.ChannelNormalization.Epsilon(bn.Attributes);
            denominator = Primitives.ChannelNormalization.Denominators(variance, epsilon, outside);
        }

        var activation = fusion.Activation is { } act
            ? Primitives.ActivationFunctions.Create(act.Attributes, what => new NotSupportedException(
                $"layer {act.Origin.Index} [{act.Origin.Kind}] '{act.Name}' (Activation): the reference executor does not support {what}."))
            : null;
        return new ConvEpilogue(mean, denominator, gamma, beta, activation);
    }

    /// <summary>A weight's values into a kernel's scratch buffer, without loading it for keeps.</summary>
    private void CopyWeight(string name, Span<float> destination)
    {
        if (_initializers[name].IsValueCreated)
        {
            _initializers[name].Value.Data.AsSpan().CopyTo(destination);
            return;
        }

        var initializer = _graph.Initializers[name];
        Validate(initializer).CopyTo(destination);
    }

    private static Tensor Load(Initializer initializer) => new(initializer.Shape, Validate(initializer).ToArray());

    private static TensorData Validate(Initializer initializer)
    {
        if (initializer.DataType != DataType.Float32)
        {
            throw new NotSupportedException($"Initializer '{initializer.Name}' is {initializer.DataType}; the reference executor runs float32 models.");
        }

        var data = initializer.Data ?? throw new InvalidOperationException(
            $"Initializer '{initializer.Name}' has no values: open the model with its weights (ModelReadOptions.WeightsPath) to execute it.");
        if (data.ElementCount != initializer.Shape.ElementCount)
        {
            throw new InvalidOperationException($"Initializer '{initializer.Name}' holds {data.ElementCount} values but its shape {initializer.Shape} needs {initializer.Shape.ElementCount}.");
        }

        return data;
    }

    /// <summary>A convolution's fused successors and the value the fused chain produces.</summary>
    private sealed record Fusion(Node? BatchNorm, Node? Activation, string Output);

    private sealed class ExecutionPlan(List<int> nodes, Dictionary<string, int> lastUse)
    {
        public List<int> Nodes { get; } = nodes;

        public Dictionary<string, int> LastUse { get; } = lastUse;

        /// <summary>Convolutions that run with an epilogue, by node index.</summary>
        public Dictionary<int, Fusion> Fusions { get; } = [];

        /// <summary>Nodes computed inside a fused convolution.</summary>
        public HashSet<int> Fused { get; } = [];
    }

    /// <summary>The state of one <see cref="ReferenceExecutor.Run"/>: live values and the buffer pool.</summary>
    private sealed class RunState
    {
        private readonly HashSet<string> _requested;
        private readonly Dictionary<string, int> _lastUse;
        private readonly HashSet<float[]> _protected = new(ReferenceEqualityComparer.Instance);
        private readonly Dictionary<int, Stack<float[]>> _pool;

        public RunState(IReadOnlyDictionary<string, Tensor> inputs, HashSet<string> requested, Dictionary<string, int> lastUse, Dictionary<int, Stack<float[]>> pool)
        {
            _pool = pool;
            _requested = requested;
            _lastUse = lastUse;
            foreach (var (name, tensor) in inputs)
            {
                Live[name] = tensor;
                _protected.Add(tensor.Data);
            }
        }

        public Dictionary<string, Tensor> Live { get; } = new(StringComparer.Ordinal);

        /// <summary>Buffers free for reuse: handed back to the executor for its next run.</summary>
        public Dictionary<int, Stack<float[]>> Pool => _pool;

        /// <summary>Marks a buffer the run must never write or recycle (caller inputs, weights).</summary>
        public Tensor Protect(Tensor tensor)
        {
            _protected.Add(tensor.Data);
            return tensor;
        }

        public float[] Rent(Shape shape)
        {
            var count = checked((int)shape.ElementCount);
            return _pool.TryGetValue(count, out var stack) && stack.Count > 0
                ? stack.Pop()
                : GC.AllocateUninitializedArray<float>(count);
        }

        /// <summary>True when node <paramref name="index"/> is the last reader of every value held in <paramref name="tensor"/>'s buffer.</summary>
        public bool CanOverwrite(string name, Tensor tensor, int index)
        {
            if (_protected.Contains(tensor.Data) || _requested.Contains(name) || _lastUse[name] != index)
            {
                return false;
            }

            foreach (var (other, live) in Live)
            {
                if (other != name && ReferenceEquals(live.Data, tensor.Data)
                    && (_requested.Contains(other) || !_lastUse.TryGetValue(other, out var last) || last > index))
                {
                    return false;
                }
            }

            return true;
        }

        /// <summary>Drops an output that no later node reads and nobody asked for.</summary>
        public void ReleaseUnread(string name)
        {
            if (!_requested.Contains(name) && !_lastUse.ContainsKey(name))
            {
                _lastUse[name] = -1;
                Release(name, -1);
            }
        }

        /// <summary>Drops <paramref name="name"/> after its last reader and recycles its buffer when nothing else holds it.</summary>
        public void Release(string name, int index)
        {
            if (name.Length == 0 || _requested.Contains(name) || !_lastUse.TryGetValue(name, out var last) || last != index
                || !Live.Remove(name, out var tensor))
            {
                return;
            }

            if (_protected.Contains(tensor.Data))
            {
                return;
            }

            foreach (var live in Live.Values)
            {
                if (ReferenceEquals(live.Data, tensor.Data))
                {
                    return;
                }
            }

            if (!_pool.TryGetValue(tensor.Data.Length, out var stack))
            {
                _pool[tensor.Data.Length] = stack = new Stack<float[]>();
            }

            stack.Push(tensor.Data);
        }
    }
}
