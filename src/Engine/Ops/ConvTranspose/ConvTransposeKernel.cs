using NeuralBuild.Engine.Execution.Primitives;
using NeuralBuild.Engine.Execution;

namespace NeuralBuild.Engine.Ops;

/// <summary>
/// Transposed convolution (darknet [deconvolutional]: gemm of Wᵀ and the input, then col2im):
/// every input pixel (ci, iy, ix) adds <c>x * W[ci, co, ky, kx]</c> to output pixel
/// (co, iy*s - pad + ky*d, ix*s - pad + kx*d) where that lies inside the output; then the bias.
/// W is (Cin, Cout/group, kh, kw). Direct loops over output channels in parallel: deconvolutions
/// are rare in the models this engine meets.
/// </summary>
internal sealed class ConvTransposeKernel : Kernel
{
    public override void Run(KernelContext context)
    {
        var x = context.Input(0);
        var w = context.Input(1);
        var bias = context.OptionalInput(2)?.Data;
        var y = context.Output;
        var attributes = context.AttributesAs<ConvAttributes>();
        var g = ConvGeometry.From(attributes.Window);
        var groups = checked((int)attributes.Group);
        int batch = ConvGeometry.Dim(x.Shape, 0), cin = ConvGeometry.Dim(x.Shape, 1), height = ConvGeometry.Dim(x.Shape, 2), width = ConvGeometry.Dim(x.Shape, 3);
        int cout = ConvGeometry.Dim(y.Shape, 1), outH = ConvGeometry.Dim(y.Shape, 2), outW = ConvGeometry.Dim(y.Shape, 3);
        var inPerGroup = cin / groups;
        var outPerGroup = cout / groups;
        var src = x.Data;
        var weights = w.Data;
        var dst = y.Data;
        ParallelWork.For(context, (long)batch * cout, 1, (start, end) =>
        {
            for (var plane = (int)start; plane < end; plane++)
            {
                var n = plane / cout;
                var co = plane % cout;
                var group = co / outPerGroup;
                var coLocal = co % outPerGroup;
                var output = dst.AsSpan(plane * outH * outW, outH * outW);
                output.Fill(bias?[co] ?? 0f);
                for (var ciLocal = 0; ciLocal < inPerGroup; ciLocal++)
                {
                    var ci = (group * inPerGroup) + ciLocal;
                    var input = src.AsSpan(((n * cin) + ci) * height * width, height * width);
                    var kernel = ((ci * outPerGroup) + coLocal) * g.KernelArea;
                    for (var ky = 0; ky < g.KernelH; ky++)
                    {
                        for (var kx = 0; kx < g.KernelW; kx++)
                        {
                            var weight = weights[kernel + (ky * g.KernelW) + kx];
                            for (var iy = 0; iy < height; iy++)
                            {
                                var oy = (iy * g.StrideH) - g.PadTop + (ky * g.DilationH);
                                if ((uint)oy >= (uint)outH)
                                {
                                    continue;
                                }

                                for (var ix = 0; ix < width; ix++)
                                {
                                    var ox = (ix * g.StrideW) - g.PadLeft + (kx * g.DilationW);
                                    if ((uint)ox < (uint)outW)
                                    {
                                        output[(oy * outW) + ox] += weight * input[(iy * width) + ix];
                                    }
                                }
                            }
                        }
                    }
                }
            }
        });
    }
}
