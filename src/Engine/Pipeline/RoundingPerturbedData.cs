using NeuralBuild.Engine.Ir;
using NeuralBuild.Engine.Numerics;

namespace NeuralBuild.Engine.Pipeline;

/// <summary>
/// A weight tensor with a quarter of its values moved one ulp up and a quarter one ulp down
/// (seeded, so the same on every run): on average half an ulp per value, which is what rounding a
/// folded weight (<c>w * s</c> computed in float64, stored as float32) moves it by at most. Running
/// the original model with these weights measures how far float32 rounding alone carries the
/// outputs of that network: the <see cref="Verifier"/>'s rounding floor.
/// </summary>
internal sealed class RoundingPerturbedData(TensorData source, ulong seed) : TensorData
{
    public override long ElementCount => source.ElementCount;

    public override void CopyTo(Span<float> destination)
    {
        source.CopyTo(destination);
        var random = new SplitMix64(seed);
        ulong bits = 0;
        for (var i = 0; i < destination.Length; i++)
        {
            // Two random bits per value, 32 values per draw.
            if ((i & 31) == 0)
            {
                bits = random.Next();
            }

            destination[i] = (bits & 3) switch
            {
                0 => MathF.BitIncrement(destination[i]),
                1 => MathF.BitDecrement(destination[i]),
                _ => destination[i],
            };
            bits >>= 2;
        }
    }
}
