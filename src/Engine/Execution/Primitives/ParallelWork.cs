namespace NeuralBuild.Engine.Execution.Primitives;

/// <summary>Splits a range of independent items over the executor's threads.</summary>
internal static class ParallelWork
{
    /// <summary>
    /// Runs <paramref name="body"/> over [0, <paramref name="count"/>) in contiguous chunks of at
    /// least <paramref name="minChunk"/> items; small ranges run on the calling thread, where a
    /// task switch would cost more than the work.
    /// </summary>
    public static void For(KernelContext context, long count, long minChunk, Action<long, long> body)
    {
        if (count <= 0)
        {
            return;
        }

        var threads = context.Threads;
        var chunks = (int)Math.Clamp(count / Math.Max(1, minChunk), 1, threads * 4L);
        if (chunks == 1 || threads == 1)
        {
            body(0, count);
            return;
        }

        Parallel.For(0, chunks, context.Parallel, chunk =>
        {
            var start = count * chunk / chunks;
            var end = count * (chunk + 1) / chunks;
            body(start, end);
        });
    }
}
