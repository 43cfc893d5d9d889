using NeuralBuild.Engine.Ir;
using NeuralBuild.Engine.Ops;

namespace NeuralBuild.Engine.Execution;

/// <summary>What a <see cref="Kernel"/> sees of one node's execution.</summary>
/// <remarks>
/// Weight inputs are loaded when a kernel first asks for them (<see cref="Input"/>), so a kernel
/// that keeps a derived form (packed convolution weights) can read them once with
/// <see cref="CopyInput"/> and never hold the plain copy.
/// </remarks>
internal sealed class KernelContext(Node node, Tensor?[] inputs, Tensor[] outputs, ParallelOptions parallel, NodeStateCache states, WeightSource? weights = null, ConvEpilogue? epilogue = null)
{
    public Node Node { get; } = node;

    /// <summary>The node's typed attribute record (its operator's, parsed once).</summary>
    public T AttributesAs<T>()
        where T : class => Node.AttributesAs<T>();

    public int InputCount => inputs.Length;

    public Tensor Output => outputs[0];

    public IReadOnlyList<Tensor> Outputs => outputs;

    public ParallelOptions Parallel { get; } = parallel;

    /// <summary>For a Conv: the BatchNorm / activation of the following nodes, which the executor then skips.</summary>
    public ConvEpilogue? Epilogue { get; } = epilogue;

    /// <summary>Threads a kernel should split its work for.</summary>
    public int Threads => Parallel.MaxDegreeOfParallelism > 0 ? Parallel.MaxDegreeOfParallelism : Environment.ProcessorCount;

    /// <summary>True when output 0 shares input 0's buffer.</summary>
    public bool InPlace => inputs.Length > 0 && inputs[0] is { } x && ReferenceEquals(x.Data, Output.Data);

    public bool HasInput(int index) => index < inputs.Length && (inputs[index] is not null || IsPendingWeight(index));

    public Tensor Input(int index)
    {
        if (index < inputs.Length && inputs[index] is null && IsPendingWeight(index))
        {
            inputs[index] = weights!.Load(Node.Inputs[index]);
        }

        return HasInput(index) ? inputs[index]! : throw Error($"input {index} is missing.");
    }

    public Tensor? OptionalInput(int index) => HasInput(index) ? Input(index) : null;

    /// <summary>
    /// Copies the values of input <paramref name="index"/> into <paramref name="destination"/>
    /// without making the executor keep them (a weight not loaded yet is read from the model). For
    /// kernels that derive their own form once (<see cref="State{T}"/>) from a scratch buffer.
    /// </summary>
    public void CopyInput(int index, Span<float> destination)
    {
        if (index < inputs.Length && inputs[index] is null && IsPendingWeight(index))
        {
            weights!.CopyTo(Node.Inputs[index], destination);
            return;
        }

        Input(index).Data.AsSpan().CopyTo(destination);
    }

    private bool IsPendingWeight(int index) => weights is not null && index < Node.Inputs.Count && weights.Has(Node.Inputs[index]);

    /// <summary>State a kernel derives once per node and reuses across runs (packed weights).</summary>
    public T State<T>(Func<T> create)
        where T : class => states.GetOrAdd(Node, create);

    public NotSupportedException Unsupported(string what) =>
        new($"layer {Node.Origin.Index} [{Node.Origin.Kind}] '{Node.Name}' ({Node.OpType}): the reference executor does not support {what}.");

    public InvalidOperationException Error(string message) =>
        new($"layer {Node.Origin.Index} [{Node.Origin.Kind}] '{Node.Name}' ({Node.OpType}): {message}");
}

/// <summary>Per-node derived state shared by the runs of one executor.</summary>
internal sealed class NodeStateCache
{
    private readonly Dictionary<Node, object> _states = new(ReferenceEqualityComparer.Instance);
    private readonly Lock _lock = new();

    public T GetOrAdd<T>(Node node, Func<T> create)
        where T : class
    {
        lock (_lock)
        {
            if (_states.TryGetValue(node, out var existing))
            {
                return (T)existing;
            }
        }

        // Built outside the lock: packing a large weight tensor must not block other nodes.
        var created = create();
        lock (_lock)
        {
            if (_states.TryGetValue(node, out var existing))
            {
                return (T)existing;
            }

            _states[node] = created;
            return created;
        }
    }
}

/// <summary>The graph's weights as kernels reach them: loaded and kept on first use, or read once.</summary>
internal sealed class WeightSource(Func<string, bool> has, Func<string, Tensor> load, Action<string, Span<float>> copyTo)
{
    public bool Has(string name) => has(name);

    public Tensor Load(string name) => load(name);

    public void CopyTo(string name, Span<float> destination) => copyTo(name, destination);
}
