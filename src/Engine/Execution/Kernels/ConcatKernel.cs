namespace NeuralBuild.Engine.Execution.Kernels;

/// <summary>
/// Darknet [route]: per batch item, the inputs' values one after another (channel
/// concatenation). With <c>groups</c>/<c>group_id</c> (AlexeyAB) each input contributes only its
/// slice <c>group_id</c> of <c>groups</c> equal parts, i.e. that range of channels.
/// </summary>
internal sealed class ConcatKernel : Kernel
{
    public override string OpType => "Concat";

    public override void Run(KernelContext context)
    {
        var groups = checked((int)context.Attributes.Int("groups", 1));
        var groupId = checked((int)context.Attributes.Int("group_id", 0));
        var y = context.Output;
        var batch = checked((int)y.Shape[0]);
        var itemSize = checked((int)y.Shape.ElementsPerItem);
        var offset = 0;
        for (var i = 0; i < context.InputCount; i++)
        {
            var x = context.Input(i);
            var inputSize = checked((int)x.Shape.ElementsPerItem);
            var part = inputSize / groups;
            for (var b = 0; b < batch; b++)
            {
                x.Data.AsSpan((b * inputSize) + (part * groupId), part).CopyTo(y.Data.AsSpan((b * itemSize) + offset, part));
            }

            offset += part;
        }

        if (offset != itemSize)
        {
            throw context.Error($"the inputs hold {offset} values per item but the output {itemSize}.");
        }
    }
}
