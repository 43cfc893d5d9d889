using NeuralBuild.Engine.Execution;

namespace NeuralBuild.Engine.Ops;

/// <summary>
/// Concatenation along <c>axis</c> (default 1; negative counts from the end): for every position of
/// the axes before it, the inputs' blocks (their axis and everything after) one after another
/// (Caffe and ONNX Concat; darknet [route], which is axis 1). With <c>groups</c>/<c>group_id</c>
/// (AlexeyAB) each input contributes only its slice <c>group_id</c> of <c>groups</c> equal parts of
/// its block, i.e. that range of channels.
/// </summary>
internal sealed class ConcatKernel : Kernel
{
    public override void Run(KernelContext context)
    {
        var attributes = context.AttributesAs<ConcatAttributes>();
        var groups = checked((int)attributes.Groups);
        var groupId = checked((int)attributes.GroupId);
        var y = context.Output;
        var rank = y.Shape.Rank;
        var axisAttribute = attributes.Axis;
        var axis = checked((int)(axisAttribute < 0 ? axisAttribute + rank : axisAttribute));
        long outer = 1;
        for (var a = 0; a < axis; a++)
        {
            outer *= y.Shape[a];
        }

        var block = checked((int)(y.Data.Length / Math.Max(1, outer)));
        var offset = 0;
        for (var i = 0; i < context.InputCount; i++)
        {
            var x = context.Input(i);
            var inputBlock = checked((int)(x.Data.Length / Math.Max(1, outer)));
            var part = inputBlock / groups;
            for (long o = 0; o < outer; o++)
            {
                x.Data.AsSpan(checked((int)((o * inputBlock) + (part * groupId))), part)
                    .CopyTo(y.Data.AsSpan(checked((int)((o * block) + offset)), part));
            }

            offset += part;
        }

        if (offset != block)
        {
            throw context.Error($"the inputs hold {offset} values per position before axis {axis} but the output {block}.");
        }
    }
}
