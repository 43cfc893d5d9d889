using NeuralBuild.Engine.Diagnostics;
using NeuralBuild.Engine.Ir;

namespace NeuralBuild.Engine.Ops;

/// <summary>The shape rule of per-channel operators (Scale, Bias): a parameter with one value per channel.</summary>
internal static class PerChannel
{
    /// <summary>Input 0's shape, after checking that input <paramref name="index"/> has one value per channel (axis 1).</summary>
    public static Shape Require(OpContext context, int index, string what)
    {
        var x = context.Input(0);
        var values = context.Input(index);
        var channels = x.Rank > 1 ? x[1] : x[0];
        return values.ElementCount == channels
            ? x
            : throw context.Error(DiagnosticCodes.ShapeMismatch, $"{what} has {values.ElementCount} values for {channels} channels.");
    }
}
