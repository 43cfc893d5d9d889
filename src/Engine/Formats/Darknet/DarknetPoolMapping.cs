using NeuralBuild.Engine.Diagnostics;
using NeuralBuild.Engine.Ir;

namespace NeuralBuild.Engine.Formats.Darknet;

/// <summary>[maxpool], [local_avgpool] (windowed) and [avgpool] (global).</summary>
internal static class DarknetPoolMapping
{
    public static string MaxPool(DarknetSection layer) => Windowed(layer, "MaxPool");

    public static string LocalAveragePool(DarknetSection layer) => Windowed(layer, "AveragePool");

    public static string GlobalAveragePool(DarknetSection layer) => layer.Emit("GlobalAveragePool", [layer.Input]);

    private static string Windowed(DarknetSection layer, string op)
    {
        var s = layer.Section;
        var stride = s.Positive("stride", 1);
        var strideX = s.Positive("stride_x", stride);
        var strideY = s.Positive("stride_y", stride);
        var size = s.Positive("size", stride);
        if (size * size > ModelLimits.MaxElements)
        {
            throw DiagnosticCodes.CfgInvalidValue.Exception(s.Find("size")?.Location ?? s.Location,
                $"[{s.Type}] size={size} is too large: its {size}x{size} window covers more than {ModelLimits.MaxElements:N0} (2^31 - 1) elements, NeuralBuild's limit for one tensor.");
        }

        var padding = s.NonNegative("padding", size - 1);
        if (s.Int("antialiasing", 0) != 0)
        {
            throw DiagnosticCodes.CfgUnsupportedLayer.Exception(s.Find("antialiasing")!.Location,
                $"layer {layer.Index} [{s.Type}] antialiasing=1 is not supported yet.");
        }

        return layer.Emit(op, [layer.Input], a =>
        {
            // Darknet offsets windows by -padding/2; the rest of the padding lies at the end.
            a.Set("kernel_shape", [size, size])
             .Set("strides", [strideY, strideX])
             .Set("pads", [padding / 2, padding / 2, padding - (padding / 2), padding - (padding / 2)])
             .Set("count_include_pad", 0L);
            if (op == "MaxPool" && s.Int("maxpool_depth", 0) != 0)
            {
                a.Set("depth_channels", s.Positive("out_channels", 1));
            }
        });
    }
}
