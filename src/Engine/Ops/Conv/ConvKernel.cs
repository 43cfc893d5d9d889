using System.Buffers;
using NeuralBuild.Engine.Execution.Primitives;
using NeuralBuild.Engine.Execution;

namespace NeuralBuild.Engine.Ops;

/// <summary>
/// 2-D convolution as darknet's forward_convolutional_layer computes it: per group, the weights
/// (Cout/g x Cin/g*kh*kw) times the im2col matrix of the input, then the bias. The product runs on
/// the blocked <see cref="Gemm"/> over a grid of (group, column chunk, row range) tasks; the
/// im2col matrix is built one KC x NC block at a time inside each task, so it never exists whole
/// (darknet's workspace for yolov3 at 608 is 100 MB). A 1x1 stride-1 convolution reads the input
/// as its im2col matrix directly; a depthwise one (one input channel per group) runs as
/// <see cref="DepthwiseConvolution"/>.
/// </summary>
internal sealed unsafe class ConvKernel : Kernel
{
    /// <summary>Output columns per task: a KC x 512 block of B is 512 KiB, inside L2.</summary>
    private const int ColumnChunk = 512;

    [ThreadStatic]
    private static float[]? t_columns;

    public override void Run(KernelContext context)
    {
        var attributes = context.AttributesAs<ConvAttributes>();
        var xnor = attributes.Xnor;
        var x = context.Input(0);
        var bias = context.OptionalInput(2);
        var y = context.Output;
        var g = ConvGeometry.From(attributes.Window);
        var groups = checked((int)attributes.Group);

        var batch = ConvGeometry.Dim(x.Shape, 0);
        var cin = ConvGeometry.Dim(x.Shape, 1);
        var height = ConvGeometry.Dim(x.Shape, 2);
        var width = ConvGeometry.Dim(x.Shape, 3);
        var cout = ConvGeometry.Dim(y.Shape, 1);
        var outH = ConvGeometry.Dim(y.Shape, 2);
        var outW = ConvGeometry.Dim(y.Shape, 3);
        if (xnor && cin / groups == 1 && groups > 1)
        {
            throw context.Unsupported("xnor=1 (binarised) depthwise convolution");
        }

        // Darknet's xnor forward (binarize_cpu): the input becomes +1 / -1 by sign (0 → -1);
        // padding added later by im2col stays 0, as in darknet.
        var input = x.Data;
        if (xnor)
        {
            input = new float[x.Shape.ElementCount];
            for (var i = 0; i < input.Length; i++)
            {
                input[i] = x.Data[i] > 0 ? 1f : -1f;
            }
        }

        Convolve(context, input, y, bias, g, groups, xnor, batch, cin, height, width, cout, outH, outW);
    }

    private static void Convolve(KernelContext context, float[] xArray, Tensor y, Tensor? bias, ConvGeometry g, int groups, bool xnor, int batch, int cin, int height, int width, int cout, int outH, int outW)
    {
        var rowsPerGroup = cout / groups;
        var channelsPerGroup = cin / groups;
        var depth = channelsPerGroup * g.KernelArea;
        var columns = outH * outW;
        var x = new Tensor(context.Input(0).Shape, xArray);
        if (channelsPerGroup == 1 && groups > 1)
        {
            DepthwiseConvolution.Run(context, x.Data, context.Input(1).Data, bias?.Data, y.Data, batch, cin, height, width, cout, outH, outW, g);
            return;
        }

        // Packed once per node from a copy read for the purpose: the executor keeps only the
        // packed form, not the weights as well (250 MB less for yolov3).
        var packed = context.State(() => PackWeights(context, groups, rowsPerGroup, depth, xnor));

        var chunk = Math.Min(ColumnChunk, Gemm.RoundUpToNR(columns));
        var chunks = (columns + chunk - 1) / chunk;
        var panels = packed[0].Panels;
        var units = groups * chunks;
        var threads = context.Threads;

        // Few column chunks (a 13x13 map with 1024 filters): split the filters too, so every
        // core gets work; each split rebuilds its im2col block, a 1/rows share of the work.
        var splits = units >= 4 * threads ? 1 : Math.Min(panels, ((4 * threads) + units - 1) / units);
        var tasks = units * splits;

        fixed (float* xData = x.Data, yData = y.Data)
        {
            var xBase = xData;
            var yBase = yData;
            for (var n = 0; n < batch; n++)
            {
                var image = xBase + ((long)n * cin * height * width);
                var output = yBase + ((long)n * cout * columns);
                void RunTask(int task)
                {
                    var split = task % splits;
                    var unit = task / splits;
                    var group = unit / chunks;
                    var j0 = unit % chunks * chunk;
                    var n0 = Math.Min(chunk, columns - j0);
                    var p0 = panels * split / splits;
                    var p1 = panels * (split + 1) / splits;
                    if (p0 == p1)
                    {
                        return;
                    }

                    var groupImage = image + ((long)group * channelsPerGroup * height * width);
                    var groupOutput = output + ((long)group * rowsPerGroup * columns) + j0;
                    MultiplyTask(packed[group], groupImage, height, width, g, outW, columns, j0, n0, p0, p1, groupOutput);
                    var rowStart = Math.Min(rowsPerGroup, p0 * Gemm.MR);
                    var rowEnd = Math.Min(rowsPerGroup, p1 * Gemm.MR);
                    if (bias is not null)
                    {
                        AddBias(bias.Data, group * rowsPerGroup, rowStart, rowEnd, groupOutput, columns, n0);
                    }

                    if (context.Epilogue is { } epilogue)
                    {
                        for (var r = rowStart; r < rowEnd; r++)
                        {
                            epilogue.Apply((group * rowsPerGroup) + r, new Span<float>(groupOutput + ((long)r * columns), n0));
                        }
                    }
                }

                if (tasks == 1 || threads == 1)
                {
                    for (var t = 0; t < tasks; t++)
                    {
                        RunTask(t);
                    }
                }
                else
                {
                    Parallel.For(0, tasks, context.Parallel, RunTask);
                }
            }
        }
    }

    private static void MultiplyTask(PackedPanels a, float* image, int height, int width, ConvGeometry g, int outW, int columns, int j0, int n, int p0, int p1, float* c)
    {
        var depth = a.Cols;
        if (g.IsPointwise)
        {
            // B is the input: row ci is channel ci (stride H*W), columns are pixels.
            for (var k0 = 0; k0 < depth; k0 += Gemm.KC)
            {
                var kc = Math.Min(Gemm.KC, depth - k0);
                Gemm.MultiplyBlock(a, p0, p1, k0, kc, image + ((long)k0 * columns) + j0, columns, n, bPadded: false, c, columns, accumulate: k0 > 0);
            }

            return;
        }

        var ldb = Gemm.RoundUpToNR(n);
        var buffer = t_columns is { } existing && existing.Length >= Gemm.KC * ldb ? existing : t_columns = new float[Gemm.KC * Math.Max(ldb, ColumnChunk)];
        fixed (float* b = buffer)
        {
            for (var k0 = 0; k0 < depth; k0 += Gemm.KC)
            {
                var kc = Math.Min(Gemm.KC, depth - k0);
                Im2Col.FillBlock(image, height, width, g, outW, k0, kc, j0, n, b, ldb);
                Gemm.MultiplyBlock(a, p0, p1, k0, kc, b, ldb, n, bPadded: true, c, columns, accumulate: k0 > 0);
            }
        }
    }

    private static void AddBias(float[] bias, int biasOffset, int rowStart, int rowEnd, float* c, int ldc, int n)
    {
        for (var r = rowStart; r < rowEnd; r++)
        {
            var b = bias[biasOffset + r];
            var row = new Span<float>(c + ((long)r * ldc), n);
            for (var j = 0; j < row.Length; j++)
            {
                row[j] += b;
            }
        }
    }

    /// <summary>
    /// Darknet's binarize_weights: every filter becomes +/- the mean of its absolute values, by
    /// sign (0 → -mean). A BatchNorm folded into such a conv commutes with this: scaling a filter
    /// by a scales its mean and keeps (a &gt; 0) or flips (a &lt; 0) every sign together.
    /// </summary>
    private static void BinarizePerFilter(Span<float> weights, int depth)
    {
        for (var row = 0; row + depth <= weights.Length; row += depth)
        {
            var filter = weights.Slice(row, depth);
            double sum = 0;
            foreach (var w in filter)
            {
                sum += Math.Abs(w);
            }

            var mean = (float)(sum / depth);
            for (var i = 0; i < filter.Length; i++)
            {
                filter[i] = filter[i] > 0 ? mean : -mean;
            }
        }
    }

    private static PackedPanels[] PackWeights(KernelContext context, int groups, int rowsPerGroup, int depth, bool xnor)
    {
        var count = groups * rowsPerGroup * depth;
        var weights = ArrayPool<float>.Shared.Rent(count);
        try
        {
            context.CopyInput(1, weights.AsSpan(0, count));
            if (xnor)
            {
                BinarizePerFilter(weights.AsSpan(0, count), depth);
            }

            var packed = new PackedPanels[groups];
            for (var group = 0; group < groups; group++)
            {
                var slice = weights.AsSpan(group * rowsPerGroup * depth, rowsPerGroup * depth);
                packed[group] = PackedPanels.Pack(slice, rowsPerGroup, depth, rowStride: depth, colStride: 1);
            }

            return packed;
        }
        finally
        {
            ArrayPool<float>.Shared.Return(weights);
        }
    }
}
