using NeuralBuild.Engine.Ir;

namespace NeuralBuild.Engine.Execution;

/// <summary>
/// A graph's weights as the executor's runs share them: each read from the model on first use
/// and kept for every later run of the same executor, or copied straight into a kernel's scratch
/// buffer when the kernel keeps only a derived form (packed convolution weights).
/// </summary>
internal sealed class WeightStore
{
    private readonly IReadOnlyDictionary<string, Initializer> _initializers;
    private readonly Dictionary<string, Lazy<Tensor>> _loaded = new(StringComparer.Ordinal);

    public WeightStore(IReadOnlyDictionary<string, Initializer> initializers)
    {
        _initializers = initializers;
        foreach (var (name, initializer) in initializers)
        {
            _loaded[name] = new Lazy<Tensor>(() => new Tensor(initializer.Shape, Validate(initializer).ToArray()), LazyThreadSafetyMode.ExecutionAndPublication);
        }
    }

    public bool Contains(string name) => _loaded.ContainsKey(name);

    /// <summary>The weight's values, loaded once. Shared by every run: never write into them.</summary>
    public Tensor Get(string name) => _loaded[name].Value;

    /// <summary>A weight's values into <paramref name="destination"/>, without loading it for keeps.</summary>
    public void CopyTo(string name, Span<float> destination)
    {
        if (_loaded[name].IsValueCreated)
        {
            _loaded[name].Value.Data.AsSpan().CopyTo(destination);
            return;
        }

        Validate(_initializers[name]).CopyTo(destination);
    }

    private static TensorData Validate(Initializer initializer)
    {
        // Every TensorData is a float32 view; widening float16 to float32 is exact, so a float16
        // model runs as it is (in float32 arithmetic). Integer weights never reach a float kernel:
        // the readers refuse them (NM0215).
        if (initializer.DataType is not (DataType.Float32 or DataType.Float16))
        {
            throw new NotSupportedException($"Initializer '{initializer.Name}' is {initializer.DataType}; the reference executor runs float32 models.");
        }

        var data = initializer.Data ?? throw new InvalidOperationException(
            $"Initializer '{initializer.Name}' has no values: open the model with its weights (ModelReadOptions.WeightsPath) to execute it.");
        if (data.ElementCount != initializer.Shape.ElementCount)
        {
            throw new InvalidOperationException($"Initializer '{initializer.Name}' holds {data.ElementCount} values but its shape {initializer.Shape} needs {initializer.Shape.ElementCount}.");
        }

        return data;
    }
}
