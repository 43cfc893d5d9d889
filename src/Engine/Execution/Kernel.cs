namespace NeuralBuild.Engine.Execution;

/// <summary>
/// Computes one op kind exactly as the framework it came from does (Darknet's CPU forward pass
/// for Darknet ops). One subclass per op, in the op's folder beside it (<see cref="Ops.OpKind.Kernel"/>).
/// A kernel writes every element of its outputs: buffers come from a pool and are not zeroed.
/// </summary>
internal abstract class Kernel
{
    /// <summary>
    /// True when output 0 may be input 0's buffer (element-wise ops). The executor then hands the
    /// kernel the same array for both whenever input 0 is dead after the node.
    /// </summary>
    public virtual bool SupportsInPlace => false;

    /// <summary>True when output 0 is input 0 unchanged at inference (Dropout, Identity): no work, no copy.</summary>
    public virtual bool IsPassThrough => false;

    public abstract void Run(KernelContext context);
}
