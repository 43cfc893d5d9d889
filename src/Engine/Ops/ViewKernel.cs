using NeuralBuild.Engine.Execution;

namespace NeuralBuild.Engine.Ops;

/// <summary>
/// Ops that only give the input a new shape, the values in the same row-major order (Caffe Flatten
/// and Reshape, which share the buffer in Caffe). The output has another shape, so the executor
/// cannot alias it: the values are copied.
/// </summary>
internal sealed class ViewKernel : Kernel
{
    public override void Run(KernelContext context)
    {
        var x = context.Input(0).Data;
        var y = context.Output.Data;
        if (x.Length != y.Length)
        {
            throw context.Error($"the input holds {x.Length} values but the output {y.Length}.");
        }

        x.AsSpan().CopyTo(y);
    }
}
