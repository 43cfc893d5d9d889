using System.Buffers;
using NeuralBuild.Engine.Ir;

namespace NeuralBuild.Engine.Formats.Onnx.Export;

/// <summary>
/// The weights of a darknet xnor convolution as its kernel uses them (binarize_weights): every filter
/// of <paramref name="depth"/> values becomes +mean or -mean of its absolute values, by sign (0 → -mean),
/// the mean summed in double. Computed filter by filter when the writer streams the tensor, so the
/// export holds no copy of the weights.
/// </summary>
internal sealed class BinarizedFilters(TensorData source, long depth) : TensorData
{
    public override long ElementCount => source.ElementCount;

    public override void CopyTo(Span<float> destination) => CopyTo(0, destination);

    public override void CopyTo(long start, Span<float> destination, OpenFiles? files = null)
    {
        CheckRange(start, destination.Length);
        var filter = ArrayPool<float>.Shared.Rent(checked((int)depth));
        try
        {
            for (var first = start / depth; first * depth < start + destination.Length; first++)
            {
                var values = filter.AsSpan(0, (int)depth);
                source.CopyTo(first * depth, values, files);
                double sum = 0;
                foreach (var w in values)
                {
                    sum += Math.Abs(w);
                }

                var mean = (float)(sum / depth);
                var from = Math.Max(first * depth, start);
                var to = Math.Min((first + 1) * depth, start + destination.Length);
                for (var i = from; i < to; i++)
                {
                    destination[(int)(i - start)] = values[(int)(i - (first * depth))] > 0 ? mean : -mean;
                }
            }
        }
        finally
        {
            ArrayPool<float>.Shared.Return(filter);
        }
    }
}
