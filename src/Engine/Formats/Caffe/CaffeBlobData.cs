using NeuralBuild.Engine.Formats.Caffe.Proto;
using NeuralBuild.Engine.Ir;

namespace NeuralBuild.Engine.Formats.Caffe;

/// <summary>
/// The values of a .caffemodel blob, read from the parsed message when asked for (no copy is held).
/// Caffe reads <c>double_data</c> when present, else <c>data</c>; so does this.
/// <para>For BatchNorm statistics, <see cref="MovingAverageFactor"/> is the layer's third blob
/// <c>f</c>: the stored sums are multiplied by <c>s = (f == 0 ? 0 : 1/f)</c>, in float as Caffe's
/// BatchNormLayer does (docs/folding.md: f == 0 gives mean = var = 0, not a division by zero).</para>
/// </summary>
public sealed class CaffeBlobData(BlobProto blob, BlobProto? movingAverageFactor = null) : TensorData
{
    public BlobProto Blob { get; } = blob;

    public BlobProto? MovingAverageFactor { get; } = movingAverageFactor;

    public override long ElementCount => Count(Blob);

    public static long Count(BlobProto blob) => blob.DoubleData.Count > 0 ? blob.DoubleData.Count : blob.Data.Count;

    /// <summary>Caffe's statistics scale: 1/f, or 0 when f is 0.</summary>
    public float StatisticsScale
    {
        get
        {
            if (MovingAverageFactor is null)
            {
                return 1f;
            }

            var f = MovingAverageFactor.DoubleData.Count > 0 ? (float)MovingAverageFactor.DoubleData[0] : MovingAverageFactor.Data[0];
            return f == 0 ? 0f : 1f / f;
        }
    }

    public override void CopyTo(Span<float> destination)
    {
        if (destination.Length != ElementCount)
        {
            throw new ArgumentException($"Destination holds {destination.Length} floats, tensor has {ElementCount}.", nameof(destination));
        }

        if (Blob.DoubleData.Count > 0)
        {
            for (var i = 0; i < destination.Length; i++)
            {
                destination[i] = (float)Blob.DoubleData[i];
            }
        }
        else
        {
            for (var i = 0; i < destination.Length; i++)
            {
                destination[i] = Blob.Data[i];
            }
        }

        if (MovingAverageFactor is not null)
        {
            var scale = StatisticsScale;
            for (var i = 0; i < destination.Length; i++)
            {
                destination[i] *= scale;
            }
        }
    }
}
