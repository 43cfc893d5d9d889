using NeuralBuild.Engine.Ir;

namespace NeuralBuild.Engine.Execution;

/// <summary>
/// Float buffers free for reuse, by length. Buffers come back uninitialised: kernels write every
/// element of their outputs (<see cref="Kernel"/>).
/// </summary>
internal sealed class BufferPool
{
    private readonly Dictionary<int, Stack<float[]>> _free = [];

    public float[] Rent(Shape shape)
    {
        var count = checked((int)shape.ElementCount);
        return _free.TryGetValue(count, out var stack) && stack.Count > 0
            ? stack.Pop()
            : GC.AllocateUninitializedArray<float>(count);
    }

    public void Return(float[] buffer)
    {
        if (!_free.TryGetValue(buffer.Length, out var stack))
        {
            _free[buffer.Length] = stack = new Stack<float[]>();
        }

        stack.Push(buffer);
    }
}

/// <summary>
/// Keeps the pool of the last run for the next run at the same input size: a run at a fixed size
/// then allocates nothing but the outputs it returns. Holds at most the model's peak activation
/// memory; dropped when the size changes. A run that starts while another holds the pool gets an
/// empty one.
/// </summary>
internal sealed class BufferPoolShelf
{
    private readonly Lock _lock = new();
    private (object Size, BufferPool Pool)? _kept;

    /// <param name="size">Identifies the input size (the executor's cached shapes for it).</param>
    public BufferPool Take(object size)
    {
        lock (_lock)
        {
            var pool = _kept is { } kept && ReferenceEquals(kept.Size, size) ? kept.Pool : new BufferPool();
            _kept = null;
            return pool;
        }
    }

    public void Put(object size, BufferPool pool)
    {
        lock (_lock)
        {
            _kept = (size, pool);
        }
    }
}
