using NeuralBuild.Engine.Execution;
using NeuralBuild.Engine.Ir;
using static NeuralBuild.Engine.Tests.Execution.SingleNode;

namespace NeuralBuild.Engine.Tests.Execution.Kernels;

[TestClass]
public sealed class ConvKernelTests
{
    [TestMethod]
    public void Two_by_two_kernel_without_padding_sums_each_window()
    {
        // x = [[0 1 2] [3 4 5] [6 7 8]], w = [[1 2] [3 4]], bias 10:
        // y00 = 0*1 + 1*2 + 3*3 + 4*4 + 10 = 37, y01 = 1 + 4 + 12 + 20 + 10 = 47,
        // y10 = 3 + 8 + 18 + 28 + 10 = 67,     y11 = 4 + 10 + 21 + 32 + 10 = 77.
        var y = Run("Conv", Iota(1, 1, 3, 3), a => a.Set("kernel_shape", [2L, 2L]),
            T([1, 1, 2, 2], 1, 2, 3, 4), T([1], 10));
        Assert.AreEqual(Shape.Nchw(1, 1, 2, 2), y.Shape);
        AssertValues([37, 47, 67, 77], y);
    }

    [TestMethod]
    public void Darknet_padding_and_stride_read_zeros_outside_the_image()
    {
        // 3x3 all-ones kernel, pad 1, stride 2 over the 3x3 iota image: the windows centred on the
        // corners see 4 pixels each: (0+1+3+4), (1+2+4+5), (3+4+6+7), (4+5+7+8).
        var y = Run("Conv", Iota(1, 1, 3, 3), a => a.Set("kernel_shape", [3L, 3L]).Set("strides", [2L, 2L]).Set("pads", [1L, 1L, 1L, 1L]),
            T([1, 1, 3, 3], 1, 1, 1, 1, 1, 1, 1, 1, 1));
        AssertValues([8, 12, 20, 24], y);
    }

    [TestMethod]
    public void Groups_convolve_their_own_channels()
    {
        // Two groups of one channel, 1x1 kernels 2 and 3: channel 0 doubles, channel 1 triples.
        var y = Run("Conv", Iota(1, 2, 1, 2), a => a.Set("kernel_shape", [1L, 1L]).Set("group", 2L),
            T([2, 1, 1, 1], 2, 3));
        AssertValues([0, 2, 6, 9], y);
    }

    [TestMethod]
    public void Xnor_depthwise_convolution_is_refused_rather_than_computed_wrongly()
    {
        Assert.ThrowsExactly<NotSupportedException>(() => Run("Conv", Iota(1, 2, 2, 2), a => a.Set("kernel_shape", [1L, 1L]).Set("group", 2L).Set("xnor", 1L), T([2, 1, 1, 1], 1, 1)));
    }

    /// <summary>
    /// The blocked GEMM path against the definition of convolution evaluated in double, on shapes
    /// that hit every edge: filters not a multiple of the 6-row panel, columns not a multiple of
    /// the vector tile, depth beyond one 256-deep k-block, groups, strides, dilations, asymmetric
    /// pads, the pointwise path, depthwise (with a channel multiplier), a batch of two, one thread and all.
    /// </summary>
    [TestMethod]
    [DataRow(1, 3, 7, 9, 11, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1)]
    [DataRow(2, 32, 13, 13, 13, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 0)]
    [DataRow(1, 64, 17, 5, 7, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 0)]
    [DataRow(1, 300, 5, 6, 6, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 1)]
    [DataRow(1, 8, 12, 20, 19, 3, 3, 2, 2, 1, 1, 1, 1, 1, 4, 0)]
    [DataRow(1, 6, 9, 15, 16, 3, 3, 1, 1, 2, 2, 2, 2, 2, 3, 0)]
    [DataRow(1, 5, 4, 9, 10, 2, 3, 1, 2, 0, 1, 1, 0, 1, 1, 1)]
    [DataRow(1, 16, 16, 8, 8, 3, 3, 1, 1, 1, 1, 1, 1, 1, 16, 0)]
    [DataRow(1, 3, 33, 40, 41, 5, 5, 2, 2, 2, 2, 2, 2, 1, 1, 0)]
    [DataRow(2, 24, 24, 17, 19, 3, 3, 2, 2, 1, 1, 1, 1, 1, 24, 0)]
    [DataRow(1, 8, 16, 11, 12, 5, 3, 1, 1, 2, 0, 2, 1, 2, 8, 1)]
    public void Matches_the_definition_of_convolution(int batch, int cin, int cout, int height, int width, int kh, int kw, int sh, int sw, int padTop, int padLeft, int padBottom, int padRight, int dilation, int groups, int singleThread)
    {
        var random = new Random(cin * 1000 + cout);
        var x = RandomTensor(random, batch, cin, height, width);
        var w = RandomTensor(random, cout, cin / groups, kh, kw);
        var b = RandomTensor(random, cout);
        var y = Run("Conv", x, a => a
            .Set("kernel_shape", [kh, (long)kw])
            .Set("strides", [sh, (long)sw])
            .Set("pads", [padTop, padLeft, padBottom, (long)padRight])
            .Set("dilations", [dilation, (long)dilation])
            .Set("group", groups),
            threads: singleThread == 1 ? 1 : null, w, b);

        var outH = ((height + padTop + padBottom - (dilation * (kh - 1)) - 1) / sh) + 1;
        var outW = ((width + padLeft + padRight - (dilation * (kw - 1)) - 1) / sw) + 1;
        Assert.AreEqual(Shape.Nchw(batch, cout, outH, outW), y.Shape);
        var perGroupIn = cin / groups;
        var perGroupOut = cout / groups;
        for (var n = 0; n < batch; n++)
        {
            for (var co = 0; co < cout; co++)
            {
                var g = co / perGroupOut;
                for (var oy = 0; oy < outH; oy++)
                {
                    for (var ox = 0; ox < outW; ox++)
                    {
                        double sum = b.Data[co];
                        for (var ci = 0; ci < perGroupIn; ci++)
                        {
                            for (var ky = 0; ky < kh; ky++)
                            {
                                for (var kx = 0; kx < kw; kx++)
                                {
                                    var iy = (oy * sh) - padTop + (ky * dilation);
                                    var ix = (ox * sw) - padLeft + (kx * dilation);
                                    if (iy >= 0 && iy < height && ix >= 0 && ix < width)
                                    {
                                        sum += (double)w.Data[(((co * perGroupIn) + ci) * kh * kw) + (ky * kw) + kx]
                                            * x.Data[((((n * cin) + (g * perGroupIn) + ci) * height) + iy) * width + ix];
                                    }
                                }
                            }
                        }

                        var actual = y.Data[((((n * cout) + co) * outH) + oy) * outW + ox];
                        Assert.AreEqual(sum, actual, 1e-4 + (1e-5 * Math.Abs(sum)), $"n={n} co={co} oy={oy} ox={ox}");
                    }
                }
            }
        }
    }

    internal static Tensor RandomTensor(Random random, params long[] dims)
    {
        var shape = new Shape(dims);
        var values = new float[shape.ElementCount];
        for (var i = 0; i < values.Length; i++)
        {
            values[i] = (float)((random.NextDouble() * 2) - 1);
        }

        return new Tensor(shape, values);
    }
}
