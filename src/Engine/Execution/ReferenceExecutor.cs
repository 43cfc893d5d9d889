using System.Diagnostics;
using NeuralBuild.Engine.Analysis;
using NeuralBuild.Engine.Ir;
using NeuralBuild.Engine.Ops;

namespace NeuralBuild.Engine.Execution;

/// <summary>
/// Runs a graph on concrete inputs, node by node, with kernels that compute what the source
/// framework computes (Darknet's CPU forward pass for Darknet models). It is the proof behind
/// fusion: the original and the rewritten graph run on the same input and their outputs are compared.
/// <para>
/// It runs exactly the graph it is given, each node with its own kernel, unless the caller asks
/// for <see cref="ExecutionOptions.FuseEpilogues"/>. The pieces: <see cref="ExecutionPlan"/> (which
/// nodes run, in which steps, when each value dies), <see cref="RunMemory"/> and
/// <see cref="BufferPool"/> (buffers recycled after a value's last reader, in-place overwrites),
/// <see cref="WeightStore"/> (weights read once per executor), and the loop here that runs kernels.
/// </para>
/// </summary>
public sealed class ReferenceExecutor
{
    private readonly Graph _graph;
    private readonly ParallelOptions _parallel;
    private readonly bool _fuseEpilogues;
    private readonly NodeStateCache _states = new();
    private readonly WeightStore _weights;
    private readonly BufferPoolShelf _pools = new();
    private readonly Dictionary<string, Dictionary<string, Shape>> _shapeCache = new(StringComparer.Ordinal);
    private readonly Lock _shapeLock = new();

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
        _fuseEpilogues = options?.FuseEpilogues ?? false;
        _weights = new WeightStore(graph.Initializers);
    }

    /// <summary>
    /// Runs the graph. <paramref name="inputs"/> names every graph input; its spatial size may
    /// differ from the declared one (shapes are inferred again). Returns the requested values
    /// (default: the graph outputs); the caller owns the returned tensors.
    /// </summary>
    public IReadOnlyDictionary<string, Tensor> Run(IReadOnlyDictionary<string, Tensor> inputs, IReadOnlyCollection<string>? outputs = null) =>
        Run(inputs, outputs, observer: null);

    /// <summary>
    /// <see cref="Run(IReadOnlyDictionary{string, Tensor}, IReadOnlyCollection{string})"/>, telling
    /// <paramref name="observer"/> how long each step took. Without an observer nothing is timed.
    /// </summary>
    public IReadOnlyDictionary<string, Tensor> Run(IReadOnlyDictionary<string, Tensor> inputs, IReadOnlyCollection<string>? outputs, IStepObserver? observer)
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
            // A constant may itself be an output (an exported SSD's prior boxes: a constant in ONNX).
            if (!shapes.ContainsKey(name) && !_weights.Contains(name))
            {
                throw new ArgumentException($"'{name}' is not a value of the graph.", nameof(outputs));
            }
        }

        var plan = ExecutionPlan.Create(_graph, requested, _fuseEpilogues, _weights.Contains);
        var memory = new RunMemory(inputs, plan.Liveness, _pools.Take(shapes));
        for (var step = 0; step < plan.Steps.Count; step++)
        {
            if (observer is null)
            {
                Execute(plan.Steps[step], step, shapes, memory, observer: null);
                continue;
            }

            var started = Stopwatch.GetTimestamp();
            Execute(plan.Steps[step], step, shapes, memory, observer);
            var elapsed = Stopwatch.GetElapsedTime(started);
            observer.StepRan(step, plan.Steps[step].Nodes, elapsed);
        }

        var results = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        foreach (var name in requested)
        {
            results[name] = memory.TryGet(name, out var tensor) ? tensor
                : _weights.Contains(name) ? new Tensor(_weights.Get(name).Shape, (float[])_weights.Get(name).Data.Clone())
                : throw new InvalidOperationException($"'{name}' was not computed.");
        }

        _pools.Put(shapes, memory.Pool);
        return results;
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

    private void Execute(PlanStep step, int index, Dictionary<string, Shape> shapes, RunMemory memory, IStepObserver? observer)
    {
        var node = step.Node;
        var kernel = OpRegistry.Get(node).Kernel;
        // Computed values are at hand; weights (other than input 0) load when the kernel asks.
        var inputs = new Tensor?[node.Inputs.Count];
        for (var i = 0; i < inputs.Length; i++)
        {
            var name = node.Inputs[i];
            inputs[i] = name.Length == 0 ? null
                : memory.TryGet(name, out var live) ? live
                : _weights.Contains(name) ? (i == 0 ? memory.Protect(_weights.Get(name)) : null)
                : throw new InvalidOperationException($"node '{node.Name}' reads '{name}', which is not computed yet.");
        }

        var outputs = new Tensor[step.Outputs.Count];
        for (var i = 0; i < outputs.Length; i++)
        {
            var shape = shapes[step.Outputs[i]];
            outputs[i] = i == 0 && inputs.Length > 0 && inputs[0] is { } first && first.Shape.Equals(shape)
                && (kernel.IsPassThrough || (kernel.SupportsInPlace && memory.CanOverwrite(node.Inputs[0], first, index)))
                ? new Tensor(shape, first.Data)
                : new Tensor(shape, memory.Rent(shape));
        }

        if (!kernel.IsPassThrough)
        {
            var epilogue = step.Chain is { } chain ? ConvEpilogue.For(chain, outputs[0].Shape, name => memory.Protect(_weights.Get(name)).Data) : null;
            var weights = new WeightSource(
                name => !memory.IsLive(name) && _weights.Contains(name),
                name => memory.Protect(_weights.Get(name)),
                _weights.CopyTo);
            kernel.Run(new KernelContext(node, inputs, outputs, _parallel, _states, weights, epilogue));
        }

        for (var i = 0; i < outputs.Length; i++)
        {
            memory.Set(step.Outputs[i], outputs[i]);
            observer?.ValueComputed(step.Outputs[i], outputs[i]);
        }

        foreach (var name in step.Reads)
        {
            memory.ReleaseAfter(name, index);
        }

        foreach (var name in step.Outputs)
        {
            memory.ReleaseUnread(name);
        }
    }
}
