using NeuralBuild.Engine.Execution;

namespace NeuralBuild.Engine.Ops;

/// <summary>Caffe Split: every output is a copy of the input (Caffe shares the buffer).</summary>
internal sealed class SplitKernel : Kernel
{
    public override void Run(KernelContext context)
    {
        var x = context.Input(0).Data;
        foreach (var output in context.Outputs)
        {
            if (!ReferenceEquals(output.Data, x))
            {
                x.AsSpan().CopyTo(output.Data);
            }
        }
    }
}
