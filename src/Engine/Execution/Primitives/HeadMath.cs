namespace NeuralBuild.Engine.Execution.Primitives;

/// <summary>The in-place operations darknet's detection heads apply to ranges of their output.</summary>
internal static class HeadMath
{
    /// <summary>darknet activate_array(..., LOGISTIC): <c>1/(1 + exp(-x))</c>, evaluated in double.</summary>
    public static void Logistic(Span<float> values)
    {
        for (var i = 0; i < values.Length; i++)
        {
            values[i] = (float)(1.0 / (1.0 + Math.Exp(-values[i])));
        }
    }

    /// <summary>darknet scal_add_cpu with AlexeyAB's scale_x_y: <c>x*s - (s-1)/2</c> in float.</summary>
    public static void ScaleXY(Span<float> values, double scaleXY)
    {
        var alpha = (float)scaleXY;
        var beta = (float)(-0.5 * (scaleXY - 1));
        for (var i = 0; i < values.Length; i++)
        {
            values[i] = (values[i] * alpha) + beta;
        }
    }

    /// <summary>Copies the input into the output unless they share a buffer.</summary>
    public static void CopyIfNeeded(KernelContext context)
    {
        if (!context.InPlace)
        {
            context.Input(0).Data.AsSpan().CopyTo(context.Output.Data);
        }
    }

    /// <summary>Cells per anchor map: H*W of an image, 1 for a flat input.</summary>
    public static int Cells(Ir.Shape shape) => shape.Rank == 4 ? checked((int)(shape[2] * shape[3])) : 1;
}
