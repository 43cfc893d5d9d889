using NeuralBuild.Engine.Execution;

namespace NeuralBuild.Engine.Pipeline;

/// <summary>
/// A runtime other than the reference executor that runs a model file (ONNX Runtime on an exported
/// model): <see cref="Verifier.VerifyRuntime"/> proves it computes what the IR computes. The engine
/// names no runtime; the host that can load one (the tool) supplies it.
/// </summary>
public interface IModelRuntime : IDisposable
{
    /// <summary>How people name it ("ONNX Runtime 1.32.0"), for reports.</summary>
    string Name { get; }

    /// <summary>Runs the model on <paramref name="inputs"/> (by the runtime's input names) and returns <paramref name="outputs"/> (by its output names).</summary>
    IReadOnlyDictionary<string, Tensor> Run(IReadOnlyDictionary<string, Tensor> inputs, IReadOnlyList<string> outputs);

    /// <summary>
    /// Releases what the runtime holds for the model between runs (a session and its copy of the
    /// weights); a later <see cref="Run"/> loads it again. The verifier calls it before the reference
    /// executor runs again, so the process never holds both copies of a large model's weights.
    /// </summary>
    void Unload();
}
