using NeuralBuild.Engine.Diagnostics;
using NeuralBuild.Engine.Execution.Primitives;
using NeuralBuild.Engine.Ir;

namespace NeuralBuild.Engine.Ops;

/// <summary>
/// The shape rules of learned parameters (weights, biases, per-channel statistics and slopes),
/// checked when a graph is read so that a parameter that does not fit its input is NM0024 for
/// every format, never an index past an array in the cost model or the executor.
/// </summary>
internal static class PerChannel
{
    /// <summary>The channel axis: 1, or 0 for a vector.</summary>
    public static long Channels(Shape x) => x.Rank > 1 ? x[1] : x.Rank == 1 ? x[0] : 1;

    /// <summary>Input 0's shape, after checking that input <paramref name="index"/> has one value per channel (axis 1).</summary>
    public static Shape Require(OpContext context, int index, string what)
    {
        var x = context.Input(0);
        _ = context.Input(index);
        RequireCount(context, index, what, Channels(x), "channels");
        return x;
    }

    /// <summary>Input <paramref name="index"/>, when present, holds <paramref name="count"/> values (one per <paramref name="unit"/>).</summary>
    public static void RequireCount(OpContext context, int index, string what, long count, string unit)
    {
        if (context.HasInput(index) && context.Input(index).ElementCount != count)
        {
            throw context.Error(DiagnosticCodes.ParameterShapeMismatch, $"{what} {context.Input(index)} has {context.Input(index).ElementCount} values for {count} {unit}.");
        }
    }

    /// <summary>Input <paramref name="index"/>, when present, broadcasts (numpy rules, aligned at the end) to <paramref name="target"/>.</summary>
    public static void RequireBroadcast(OpContext context, int index, string what, Shape target)
    {
        if (context.HasInput(index) && !Broadcasting.Fits(context.Input(index), target))
        {
            throw context.Error(DiagnosticCodes.ParameterShapeMismatch, $"{what} {context.Input(index)} does not broadcast to {target}.");
        }
    }
}
