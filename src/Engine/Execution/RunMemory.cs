using NeuralBuild.Engine.Analysis;
using NeuralBuild.Engine.Ir;

namespace NeuralBuild.Engine.Execution;

/// <summary>
/// The values alive during one run and the rules for their buffers: a value's buffer goes back to
/// the pool after its last reader (<see cref="Liveness"/>), an element-wise kernel may overwrite
/// its input when nothing later reads any value held in that buffer (as darknet does), and the
/// caller's inputs and the weights are never written or recycled.
/// </summary>
internal sealed class RunMemory
{
    private readonly Liveness _liveness;
    private readonly BufferPool _pool;
    private readonly HashSet<float[]> _protected = new(ReferenceEqualityComparer.Instance);
    private readonly Dictionary<string, Tensor> _live = new(StringComparer.Ordinal);

    public RunMemory(IReadOnlyDictionary<string, Tensor> inputs, Liveness liveness, BufferPool pool)
    {
        _liveness = liveness;
        _pool = pool;
        foreach (var (name, tensor) in inputs)
        {
            _live[name] = tensor;
            _protected.Add(tensor.Data);
        }
    }

    public BufferPool Pool => _pool;

    public bool TryGet(string name, out Tensor tensor) => _live.TryGetValue(name, out tensor!);

    public bool IsLive(string name) => _live.ContainsKey(name);

    public void Set(string name, Tensor tensor) => _live[name] = tensor;

    /// <summary>Marks a buffer the run must never write or recycle (a weight).</summary>
    public Tensor Protect(Tensor tensor)
    {
        _protected.Add(tensor.Data);
        return tensor;
    }

    /// <summary>A buffer for a new value of <paramref name="shape"/>.</summary>
    public float[] Rent(Shape shape) => _pool.Rent(shape);

    /// <summary>True when step <paramref name="step"/> is the last reader of every value held in <paramref name="tensor"/>'s buffer.</summary>
    public bool CanOverwrite(string name, Tensor tensor, int step)
    {
        if (_protected.Contains(tensor.Data) || _liveness.IsKept(name) || _liveness.LastRead(name) != step)
        {
            return false;
        }

        foreach (var (other, live) in _live)
        {
            if (other != name && ReferenceEquals(live.Data, tensor.Data) && !_liveness.IsDeadAfter(other, step))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>Drops <paramref name="name"/> when step <paramref name="step"/> was its last reader.</summary>
    public void ReleaseAfter(string name, int step)
    {
        if (name.Length > 0 && !_liveness.IsKept(name) && _liveness.LastRead(name) == step)
        {
            Drop(name);
        }
    }

    /// <summary>Drops a value no step reads and nobody asked for, right after it is written.</summary>
    public void ReleaseUnread(string name)
    {
        if (!_liveness.IsKept(name) && _liveness.LastRead(name) < 0)
        {
            Drop(name);
        }
    }

    /// <summary>Forgets the value and recycles its buffer when no other live value holds it.</summary>
    private void Drop(string name)
    {
        if (!_live.Remove(name, out var tensor) || _protected.Contains(tensor.Data))
        {
            return;
        }

        foreach (var live in _live.Values)
        {
            if (ReferenceEquals(live.Data, tensor.Data))
            {
                return;
            }
        }

        _pool.Return(tensor.Data);
    }
}
