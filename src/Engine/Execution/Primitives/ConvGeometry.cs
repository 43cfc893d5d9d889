using NeuralBuild.Engine.Ir;
using NeuralBuild.Engine.Ops;

namespace NeuralBuild.Engine.Execution.Primitives;

/// <summary>The window of a Conv / pooling node (<see cref="SpatialGeometry"/>) as plain integers for the kernels' loops.</summary>
internal readonly record struct ConvGeometry(int KernelH, int KernelW, int StrideH, int StrideW, int PadTop, int PadLeft, int PadBottom, int PadRight, int DilationH, int DilationW)
{
    /// <summary>The op's window as ints: the shape rule has bounded every value by <see cref="ModelLimits.MaxExtent"/>.</summary>
    public static ConvGeometry From(SpatialGeometry g) => new(
        checked((int)g.KernelH), checked((int)g.KernelW), checked((int)g.StrideH), checked((int)g.StrideW),
        checked((int)g.PadTop), checked((int)g.PadLeft), checked((int)g.PadBottom), checked((int)g.PadRight),
        checked((int)g.DilationH), checked((int)g.DilationW));

    public int KernelArea => KernelH * KernelW;

    /// <summary>True when the window is a plain 1x1 pass over the input: the input is already the im2col matrix.</summary>
    public bool IsPointwise => KernelH == 1 && KernelW == 1 && StrideH == 1 && StrideW == 1 && PadTop == 0 && PadLeft == 0 && PadBottom == 0 && PadRight == 0;

    public static int Dim(Shape shape, int axis) => checked((int)shape[axis]);
}
