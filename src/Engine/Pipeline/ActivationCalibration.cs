using NeuralBuild.Engine.Evaluation;
using NeuralBuild.Engine.Execution;
using NeuralBuild.Engine.Formats;
using NeuralBuild.Engine.Ir;

namespace NeuralBuild.Engine.Pipeline;

/// <summary>
/// The range of chosen values of a model over calibration inputs (static activation quantization,
/// <c>quantize=int8-static</c>): the model is run by the reference executor, as given (epilogues not
/// fused), on each input in turn, and each value's running least and greatest element are kept, so
/// memory holds one input's values at a time, never all inputs'. Default inputs: the seeded synthetic
/// input every lossy export is measured on, so a model calibrated without <c>--inputs</c> is
/// calibrated on noise, and its ranges say nothing of real data.
/// </summary>
public static class ActivationCalibration
{
    /// <summary>Each of <paramref name="values"/>' range over <paramref name="inputs"/> (null: the seeded input), at <paramref name="inputShape"/> (null: the model's).</summary>
    public static IReadOnlyDictionary<string, ValueRange> Measure(Model model, IReadOnlyList<string> values, EvaluationInputs? inputs = null, Shape? inputShape = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(values);
        inputs ??= EvaluationInputs.Synthetic(Verifier.Seed);
        var (name, declared) = model.Graph.Inputs.First();
        var shape = inputShape ?? declared;
        var ranges = new Dictionary<string, ValueRange>(StringComparer.Ordinal);
        var executor = new ReferenceExecutor(model.Graph, new ExecutionOptions { FuseEpilogues = false });
        for (var i = 0; i < inputs.Count; i++)
        {
            var input = inputs.Load(i, shape);
            var run = executor.Run(new Dictionary<string, Tensor>(StringComparer.Ordinal) { [name] = input }, [.. values]);
            foreach (var value in values)
            {
                var data = value == name ? input.Data : run[value].Data;
                ranges[value] = (ranges.TryGetValue(value, out var range) ? range : new ValueRange(float.PositiveInfinity, float.NegativeInfinity)).Including(data);
            }
        }

        return ranges;
    }
}
