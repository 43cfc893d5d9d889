using NeuralBuild.Engine.Execution;

namespace NeuralBuild.Engine.Ops;

/// <summary>
/// ONNX Gather on constant indices: for each block of the axes before <c>axis</c>, the rows of the
/// axis the indices pick, each row the contiguous run of the axes after it.
/// </summary>
internal sealed class GatherKernel : Kernel
{
    public override void Run(KernelContext context)
    {
        var x = context.Input(0);
        var attributes = context.AttributesAs<GatherAttributes>();
        var axis = attributes.AxisIn(x.Shape.Rank);
        var size = x.Shape[axis];
        var outer = x.Shape.Dims.Take(axis).Aggregate(1L, (p, d) => p * d);
        var inner = checked((int)x.Shape.Dims.Skip(axis + 1).Aggregate(1L, (p, d) => p * d));
        var indices = attributes.Indices;
        var source = x.Data.AsSpan();
        var destination = context.Output.Data.AsSpan();
        var written = 0;
        for (long block = 0; block < outer; block++)
        {
            foreach (var index in indices)
            {
                var row = index < 0 ? index + size : index;
                source.Slice(checked((int)(((block * size) + row) * inner)), inner).CopyTo(destination.Slice(written, inner));
                written += inner;
            }
        }
    }
}
