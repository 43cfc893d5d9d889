using NeuralBuild.Engine.Execution;

namespace NeuralBuild.Engine.Ops;

/// <summary>
/// Ops that hand their input on at inference: Dropout (darknet's dropout layer outputs its input's
/// buffer), Identity ([empty]; [cost]) and [contrastive]. The executor aliases the output to the
/// input buffer; nothing runs. Darknet's [cost] and [contrastive] return before writing their
/// output when not training, so their buffer stays zero; no layer reads it, and darknet's own
/// network output skips [cost] for the layer before it, which is the value passed on here.
/// </summary>
internal sealed class PassThroughKernel : Kernel
{
    public override bool IsPassThrough => true;

    public override void Run(KernelContext context)
    {
        // Never called for a pass-through kernel; kept correct for direct use.
        context.Input(0).Data.AsSpan().CopyTo(context.Output.Data);
    }
}
