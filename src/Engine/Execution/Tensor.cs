using NeuralBuild.Engine.Diagnostics;
using NeuralBuild.Engine.Ir;

namespace NeuralBuild.Engine.Execution;

/// <summary>
/// A dense float32 tensor in row-major order (NCHW for images): what the
/// <see cref="ReferenceExecutor"/> consumes and produces.
/// </summary>
public sealed class Tensor
{
    /// <summary>Wraps <paramref name="data"/> (not copied) or allocates zeros when it is null.</summary>
    public Tensor(Shape shape, float[]? data = null)
    {
        ArgumentNullException.ThrowIfNull(shape);
        var count = shape.ElementCount;
        if (count > Array.MaxLength)
        {
            throw new ArgumentException($"A tensor of shape {shape} ({count} elements) does not fit one array.", nameof(shape));
        }

        if (data is not null && data.LongLength != count)
        {
            throw new ArgumentException($"Shape {shape} holds {count} elements but the data has {data.LongLength}.", nameof(data));
        }

        Shape = shape;
        Data = data ?? new float[count];
    }

    /// <summary>
    /// Refuses (NM0026) a tensor the executor cannot hold in one array, before anything is allocated:
    /// a size the model can state for the cost model but no run can materialise.
    /// </summary>
    public static void RequireExecutable(Shape shape, SourceLocation location, string what)
    {
        ArgumentNullException.ThrowIfNull(shape);
        if (!ModelLimits.FitsElementLimit(shape))
        {
            throw DiagnosticCodes.TensorTooLarge.Exception(location,
                $"{ModelLimits.ElementLimitReason(what, shape)} The model cannot be run or verified at this size.");
        }
    }

    public Shape Shape { get; }

    public float[] Data { get; }

    public override string ToString() => $"Tensor {Shape}";
}
