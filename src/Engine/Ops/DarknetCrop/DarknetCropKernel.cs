using NeuralBuild.Engine.Execution.Primitives;
using NeuralBuild.Engine.Execution;

namespace NeuralBuild.Engine.Ops;

/// <summary>
/// Darknet [crop] at inference (forward_crop_layer with train=0): no flip, the window offset by
/// ((H - crop_height)/2, (W - crop_width)/2), each value mapped <c>x*2 - 1</c> (or left as it is
/// with noadjust=1).
/// </summary>
internal sealed class DarknetCropKernel : Kernel
{
    public override void Run(KernelContext context)
    {
        var x = context.Input(0);
        var y = context.Output;
        var noAdjust = context.AttributesAs<DarknetCropAttributes>().NoAdjust;
        var scale = noAdjust ? 1f : 2f;
        var shift = noAdjust ? 0f : -1f;
        int height = ConvGeometry.Dim(x.Shape, 2), width = ConvGeometry.Dim(x.Shape, 3);
        int outH = ConvGeometry.Dim(y.Shape, 2), outW = ConvGeometry.Dim(y.Shape, 3);
        var dh = (height - outH) / 2;
        var dw = (width - outW) / 2;
        var planes = TensorLayout.Of(y.Shape).Planes;
        var count = 0;
        for (var plane = 0; plane < planes; plane++)
        {
            for (var i = 0; i < outH; i++)
            {
                var row = (plane * height * width) + ((i + dh) * width) + dw;
                for (var j = 0; j < outW; j++)
                {
                    y.Data[count++] = (x.Data[row + j] * scale) + shift;
                }
            }
        }
    }
}
