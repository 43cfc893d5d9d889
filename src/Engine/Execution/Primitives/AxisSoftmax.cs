namespace NeuralBuild.Engine.Execution.Primitives;

/// <summary>
/// Caffe's Softmax over one axis (softmax_layer.cpp, CPU): for every position of the other axes,
/// subtract the maximum along the axis, exponentiate, divide by the sum.
/// </summary>
internal static class AxisSoftmax
{
    public static void Apply(float[] x, float[] y, Ir.Shape shape, int axis)
    {
        long outer = 1, inner = 1;
        for (var a = 0; a < axis; a++)
        {
            outer *= shape[a];
        }

        for (var a = axis + 1; a < shape.Rank; a++)
        {
            inner *= shape[a];
        }

        var channels = checked((int)shape[axis]);
        var exps = new float[channels];
        for (long o = 0; o < outer; o++)
        {
            for (long i = 0; i < inner; i++)
            {
                var start = (o * channels * inner) + i;
                var max = float.MinValue;
                for (var c = 0; c < channels; c++)
                {
                    max = Math.Max(max, x[start + (c * inner)]);
                }

                var sum = 0f;
                for (var c = 0; c < channels; c++)
                {
                    exps[c] = MathF.Exp(x[start + (c * inner)] - max);
                    sum += exps[c];
                }

                for (var c = 0; c < channels; c++)
                {
                    y[start + (c * inner)] = exps[c] / sum;
                }
            }
        }
    }
}
