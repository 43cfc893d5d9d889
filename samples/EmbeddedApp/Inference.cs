using NeuralBuild.Engine.Ir;

namespace EmbeddedApp;

/// <summary>The one place the sample runs a model.</summary>
internal static class Inference
{
    /// <summary>
    /// Runs <paramref name="model"/> on one input and returns every graph output by name, or null
    /// when no executor is available. With the engine's reference executor this is:
    /// <code>
    /// var outputs = new NeuralBuild.Engine.Execution.ReferenceExecutor(model.Graph)
    ///     .Run(new Dictionary&lt;string, NeuralBuild.Engine.Execution.Tensor&gt; { [inputName] = new(shape, data) });
    /// return outputs.ToDictionary(p =&gt; p.Key, p =&gt; (p.Value.Shape, p.Value.Data));
    /// </code>
    /// </summary>
    public static IReadOnlyDictionary<string, (Shape Shape, float[] Data)>? Run(Model model, string inputName, Shape shape, float[] data)
    {
        _ = (model, inputName, shape, data);
        return null;
    }
}
