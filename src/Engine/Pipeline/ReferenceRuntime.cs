using NeuralBuild.Engine.Execution;
using NeuralBuild.Engine.Ir;

namespace NeuralBuild.Engine.Pipeline;

/// <summary>
/// A model run by the reference executor, as an <see cref="IModelRuntime"/>: an exported file read back
/// by its format's reader, checked against the model it was exported from by the same rule as any
/// other runtime. The reader maps the exported operators back to the IR independently of the export's
/// lowering, so a wrong lowering shows.
/// </summary>
public sealed class ReferenceRuntime(Model model, string name) : IModelRuntime
{
    public string Name => name;

    public IReadOnlyDictionary<string, Tensor> Run(IReadOnlyDictionary<string, Tensor> inputs, IReadOnlyList<string> outputs) =>
        new ReferenceExecutor(model.Graph).Run(inputs, outputs.ToList());

    public void Unload()
    {
        // Nothing is held between runs.
    }

    public void Dispose() => Unload();
}
