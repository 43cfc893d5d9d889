using Google.Protobuf;
using NeuralBuild.Engine.Tests.Formats.Onnx;
using static NeuralBuild.Engine.Tests.Formats.Onnx.TinyOnnx;

namespace NeuralBuild.Tool.Tests.Support;

/// <summary>x (1x3x8x8) → Conv 3→4 3x3 → BatchNormalization → Relu (→ Dropout) → y, seeded weights, as an ONNX file.</summary>
internal static class ConvBatchNormRelu
{
    public static string Write(TempDirectory temp, string name, bool dropout = false)
    {
        var model = TinyOnnx.Model(
            13,
            [
                Node("Conv", "conv", ["x", "w"], ["c"], Ints("kernel_shape", 3, 3), Ints("pads", 1, 1, 1, 1)),
                Node("BatchNormalization", "bn", ["c", "gamma", "beta", "mean", "var"], ["b"]),
                .. dropout
                    ? new[] { Node("Relu", "relu", ["b"], ["r"]), Node("Dropout", "dropout", ["r"], ["y"]) }
                    : [Node("Relu", "relu", ["b"], ["y"])],
            ],
            [
                Random("w", 1, -0.5, 0.5, 4, 3, 3, 3),
                Random("gamma", 2, 0.5, 1.5, 4),
                Random("beta", 3, -0.2, 0.2, 4),
                Random("mean", 4, -0.3, 0.3, 4),
                Random("var", 5, 0.5, 2, 4),
            ]);
        model.Graph.Output[0] = Value("y", [1, 4, 8, 8]);
        return temp.Write(name, model.ToByteArray());
    }
}
