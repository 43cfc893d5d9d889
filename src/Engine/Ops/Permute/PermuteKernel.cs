using NeuralBuild.Engine.Execution;

namespace NeuralBuild.Engine.Ops;

/// <summary>
/// SSD's Permute: output axis i is input axis <c>order[i]</c>; axes not named follow in their order.
/// </summary>
internal sealed class PermuteKernel : Kernel
{
    public override void Run(KernelContext context)
    {
        var x = context.Input(0);
        var rank = x.Shape.Rank;
        var order = new List<int>();
        foreach (var a in context.AttributesAs<PermuteAttributes>().Order)
        {
            order.Add(checked((int)a));
        }

        for (var a = 0; a < rank; a++)
        {
            if (!order.Contains(a))
            {
                order.Add(a);
            }
        }

        var inStrides = new long[rank];
        long stride = 1;
        for (var a = rank - 1; a >= 0; a--)
        {
            inStrides[a] = stride;
            stride *= x.Shape[a];
        }

        var outDims = order.Select(a => x.Shape[a]).ToArray();
        var src = x.Data;
        var dst = context.Output.Data;
        var index = new long[rank];
        for (var i = 0; i < dst.Length; i++)
        {
            long source = 0;
            for (var a = 0; a < rank; a++)
            {
                source += index[a] * inStrides[order[a]];
            }

            dst[i] = src[source];
            for (var a = rank - 1; a >= 0; a--)
            {
                if (++index[a] < outDims[a])
                {
                    break;
                }

                index[a] = 0;
            }
        }
    }
}
