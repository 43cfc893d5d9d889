using NeuralBuild.Engine.Ir;

namespace NeuralBuild.Engine.Execution.Primitives;

/// <summary>Window attributes of a Conv / pooling node as plain integers (kernel, strides, pads, dilations).</summary>
internal readonly record struct ConvGeometry(int KernelH, int KernelW, int StrideH, int StrideW, int PadTop, int PadLeft, int PadBottom, int PadRight, int DilationH, int DilationW)
{
    public static ConvGeometry From(Ir.Attributes a)
    {
        var k = a.Ints("kernel_shape");
        var s = a.Ints("strides", [1, 1]);
        var p = a.Ints("pads", [0, 0, 0, 0]);
        var d = a.Ints("dilations", [1, 1]);
        return new ConvGeometry(
            checked((int)k[0]), checked((int)k[1]), checked((int)s[0]), checked((int)s[1]),
            checked((int)p[0]), checked((int)p[1]), checked((int)p[2]), checked((int)p[3]),
            checked((int)d[0]), checked((int)d[1]));
    }

    public int KernelArea => KernelH * KernelW;

    /// <summary>True when the window is a plain 1x1 pass over the input: the input is already the im2col matrix.</summary>
    public bool IsPointwise => KernelH == 1 && KernelW == 1 && StrideH == 1 && StrideW == 1 && PadTop == 0 && PadLeft == 0 && PadBottom == 0 && PadRight == 0;

    public static int Dim(Shape shape, int axis) => checked((int)shape[axis]);
}
