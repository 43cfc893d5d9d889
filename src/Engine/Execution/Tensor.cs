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

    public Shape Shape { get; }

    public float[] Data { get; }

    public override string ToString() => $"Tensor {Shape}";
}
