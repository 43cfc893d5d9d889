using NeuralBuild.Engine.Evaluation;
using NeuralBuild.Engine.Execution;
using NeuralBuild.Engine.Formats;
using NeuralBuild.Engine.Ir;

namespace NeuralBuild.Engine.Pipeline;

/// <summary>
/// The range of chosen values of a model over calibration inputs (static activation quantization,
/// <c>quantize=int8-static</c>): the model is run by the reference executor, as given (epilogues not
/// fused), on each input in turn, and each value's running least and greatest element are kept as the
/// run computes it (<see cref="IStepObserver.ValueComputed"/>), so memory holds what the plan needs to
/// run the model once, never all calibrated values of an input, let alone all inputs'. Default inputs: the seeded synthetic
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
        var observer = new RangeObserver(values, ranges);
        for (var i = 0; i < inputs.Count; i++)
        {
            var input = inputs.Load(i, shape);
            if (observer.Wants(name))
            {
                observer.ValueComputed(name, input);
            }

            _ = executor.Run(new Dictionary<string, Tensor>(StringComparer.Ordinal) { [name] = input }, model.Graph.Outputs, observer);
        }

        var missing = values.FirstOrDefault(v => !ranges.ContainsKey(v));
        return missing is null ? ranges : throw new InvalidOperationException($"'{missing}' is not a value the model computes.");
    }

    /// <summary>Widens each wanted value's range as the run computes it.</summary>
    private sealed class RangeObserver(IReadOnlyList<string> values, Dictionary<string, ValueRange> ranges) : IStepObserver
    {
        private readonly HashSet<string> _wanted = new(values, StringComparer.Ordinal);

        public bool Wants(string name) => _wanted.Contains(name);

        public void StepRan(int step, IReadOnlyList<Node> nodes, TimeSpan elapsed)
        {
        }

        public void ValueComputed(string name, Tensor value)
        {
            if (_wanted.Contains(name))
            {
                ranges[name] = (ranges.TryGetValue(name, out var range) ? range : new ValueRange(float.PositiveInfinity, float.NegativeInfinity)).Including(value.Data);
            }
        }
    }
}
