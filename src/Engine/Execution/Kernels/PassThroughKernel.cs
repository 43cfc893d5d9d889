namespace NeuralBuild.Engine.Execution.Kernels;

/// <summary>
/// Ops that hand their input on at inference: Dropout (darknet's forward_dropout_layer returns
/// unless training), Identity ([cost], [empty]) and [contrastive] (a training loss). The executor
/// aliases the output to the input buffer; nothing runs.
/// </summary>
internal sealed class PassThroughKernel(string opType) : Kernel
{
    public override string OpType { get; } = opType;

    public override bool IsPassThrough => true;

    public override void Run(KernelContext context)
    {
        // Never called for a pass-through kernel; kept correct for direct use.
        context.Input(0).Data.AsSpan().CopyTo(context.Output.Data);
    }
}
