using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using NeuralBuild.Engine.Diagnostics;
using NeuralBuild.Engine.Ir;
using NeuralBuild.Engine.Pipeline;
using Tensor = NeuralBuild.Engine.Execution.Tensor;

namespace NeuralBuild.OnnxRuntimeHost;

/// <summary>
/// An ONNX file run by ONNX Runtime (CPU, all graph optimisations: what an application gets), as an
/// <see cref="IModelRuntime"/> the verifier compares with the reference executor.
/// </summary>
public sealed class OnnxRuntimeModel : IModelRuntime
{
    private readonly string _onnxPath;
    private readonly int _threads;
    private InferenceSession? _session;

    /// <summary>
    /// The session is created on first use, not here: the verifier runs the reference executor first,
    /// and its copy of the weights is released before ONNX Runtime loads its own (peak memory then
    /// holds one model's weights at a time).
    /// </summary>
    public OnnxRuntimeModel(string onnxPath, int threads = 0)
    {
        _onnxPath = onnxPath;
        _threads = threads;
        Name = $"ONNX Runtime {OrtEnv.Instance().GetVersionString()}";
    }

    public string Name { get; }

    /// <summary>The model's input names, in the file's order.</summary>
    public IReadOnlyList<string> InputNames => [.. Session.InputMetadata.Keys];

    /// <summary>The model's output names, in the file's order.</summary>
    public IReadOnlyList<string> OutputNames => [.. Session.OutputMetadata.Keys];

    public IReadOnlyDictionary<string, Tensor> Run(IReadOnlyDictionary<string, Tensor> inputs, IReadOnlyList<string> outputs)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        ArgumentNullException.ThrowIfNull(outputs);
        var values = inputs
            .Select(i => NamedOnnxValue.CreateFromTensor(i.Key, new DenseTensor<float>(i.Value.Data, [.. i.Value.Shape.Dims.Select(d => checked((int)d))])))
            .ToList();
        IDisposableReadOnlyCollection<DisposableNamedOnnxValue> run;
        try
        {
            run = Session.Run(values, outputs);
        }
        catch (OnnxRuntimeException e)
        {
            // The runtime refused the file or the input: the check could not run, which is not a bug of the caller.
            throw DiagnosticCodes.RuntimeCheckFailed.Exception(SourceLocation.None, $"{Name} could not run the model: {e.Message.ReplaceLineEndings(" ")}");
        }

        using var results = run;
        var byName = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        foreach (var result in results)
        {
            var tensor = result.AsTensor<float>();
            byName[result.Name] = new Tensor(new Shape([.. tensor.Dimensions.ToArray().Select(d => (long)d)]), tensor.ToArray());
        }

        return byName;
    }

    private InferenceSession Session => _session ??= Open();

    private InferenceSession Open()
    {
        using var options = new SessionOptions { GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL, IntraOpNumThreads = _threads };
        return new InferenceSession(_onnxPath, options);
    }

    /// <summary>
    /// The session holds the model's weights twice (as read and reordered for its kernels): yolov3's
    /// 248 MB take 610 MB. What it frees goes back to the C allocator, which keeps it for later
    /// mallocs the managed heap never makes: it is handed back to the system.
    /// </summary>
    public void Unload()
    {
        if (_session is null)
        {
            return;
        }

        _session.Dispose();
        _session = null;
        NativeHeap.Trim();
    }

    public void Dispose() => Unload();
}
