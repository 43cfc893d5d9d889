namespace NeuralBuild.Engine.Execution.Primitives;

/// <summary>
/// Caffe's LRN (lrn_layer.cpp, CPU). ACROSS_CHANNELS: <c>y = x * (k + alpha/size * Σ x²)^-beta</c>,
/// the sum over channels c - (size-1)/2 … c + size/2 that exist. WITHIN_CHANNEL (Caffe builds it from
/// Power, average pooling with pad (size-1)/2, Power and a product, so k is not used):
/// <c>y = x * (1 + alpha/size² * Σ x²)^-beta</c> over the size × size window inside the plane.
/// </summary>
internal static class CaffeLrn
{
    public static void Apply(float[] x, float[] y, TensorLayout layout, int height, int width, int size, double alpha, double beta, double k, bool within)
    {
        var prePad = (size - 1) / 2;
        for (var n = 0; n < layout.Batch; n++)
        {
            for (var c = 0; c < layout.Channels; c++)
            {
                var plane = ((n * layout.Channels) + c) * layout.Plane;
                for (var p = 0; p < layout.Plane; p++)
                {
                    double sum = 0;
                    if (within)
                    {
                        int py = p / width, px = p % width;
                        for (var yy = py - prePad; yy < py - prePad + size; yy++)
                        {
                            for (var xx = px - prePad; xx < px - prePad + size; xx++)
                            {
                                if ((uint)yy < (uint)height && (uint)xx < (uint)width)
                                {
                                    double v = x[plane + (yy * width) + xx];
                                    sum += v * v;
                                }
                            }
                        }
                    }
                    else
                    {
                        for (var cc = c - prePad; cc < c - prePad + size; cc++)
                        {
                            if ((uint)cc < (uint)layout.Channels)
                            {
                                double v = x[(((n * layout.Channels) + cc) * layout.Plane) + p];
                                sum += v * v;
                            }
                        }
                    }

                    var scale = within ? 1 + (alpha / (size * size) * sum) : k + (alpha / size * sum);
                    y[plane + p] = (float)(x[plane + p] * Math.Pow(scale, -beta));
                }
            }
        }
    }
}
