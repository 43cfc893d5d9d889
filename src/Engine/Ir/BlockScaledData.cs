namespace NeuralBuild.Engine.Ir;

/// <summary>
/// A tensor equal to <paramref name="source"/> with every contiguous block of <c>blockSize</c>
/// elements multiplied by its own factor. Folds produce these instead of new arrays, so writing a
/// fused model streams layer by layer and never holds two copies of the weights. Products are
/// computed in double and rounded once to float32.
/// </summary>
public sealed class BlockScaledData(TensorData source, long blockSize, Func<long, double> scaleOfBlock) : TensorData
{
    public override long ElementCount => source.ElementCount;

    public override void CopyTo(Span<float> destination)
    {
        source.CopyTo(destination);
        var blocks = destination.Length / blockSize;
        for (long b = 0; b < blocks; b++)
        {
            var scale = scaleOfBlock(b);
            var block = destination.Slice((int)(b * blockSize), (int)blockSize);
            for (var i = 0; i < block.Length; i++)
            {
                block[i] = (float)(scale * block[i]);
            }
        }
    }
}
