using NeuralBuild.Engine.Diagnostics;
using NeuralBuild.Engine.Ir;

namespace NeuralBuild.Engine.Surgery;

/// <summary>Draws a parameter's values by its definition's rule (<see cref="ParameterFiller"/>) from a seeded generator.</summary>
internal static class Fillers
{
    public static float[] Draw(ParameterFiller filler, Initializer target, string layer, Random random)
    {
        var values = new float[checked((int)target.Shape.ElementCount)];
        switch (filler.Distribution)
        {
            case FillerDistribution.Constant:
                Array.Fill(values, (float)filler.First);
                break;
            case FillerDistribution.Uniform:
                for (var i = 0; i < values.Length; i++)
                {
                    values[i] = (float)(filler.First + ((filler.Second - filler.First) * random.NextDouble()));
                }

                break;
            case FillerDistribution.Gaussian:
                for (var i = 0; i < values.Length; i++)
                {
                    // Box–Muller: 1 - NextDouble() is in (0, 1], so the logarithm is finite.
                    var radius = Math.Sqrt(-2 * Math.Log(1 - random.NextDouble()));
                    values[i] = (float)(filler.First + (filler.Second * radius * Math.Cos(2 * Math.PI * random.NextDouble())));
                }

                break;
            default:
                throw DiagnosticCodes.TransplantUnsupportedFiller.Exception(filler.Location,
                    $"'{target.Name}' of layer '{layer}' is to be initialised by {filler.Description}, which the transplant does not reproduce (it reproduces constant, uniform, gaussian, xavier and msra, and Darknet's rule for convolutional, connected and batchnorm layers). Give its values with --to-weights, or change the filler.");
        }

        return values;
    }
}
