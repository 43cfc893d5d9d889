using System.Globalization;
using System.Text;
using NeuralBuild.Engine.Diagnostics;
using NeuralBuild.Engine.Formats;
using NeuralBuild.Engine.Ir;

namespace NeuralBuild.Engine.Pipeline;

/// <summary>
/// The measured cost of a lossy export on one output, relative to the output's magnitude: max and mean
/// of |a - b| / max|b| over its elements (b the original's output, a the export's). For a
/// classifier-like output (rank 2, or rank 4 with a 1x1 spatial size), the share of items whose top-1
/// class is the original's, and whose top 5 hold the original's top-1 class.
/// </summary>
public sealed record OutputAccuracy(string Subject, string Output, double MaxRelativeError, double MeanRelativeError, double? Top1Agreement, double? Top5Agreement)
{
    /// <summary>Items (images of the batch) the agreements count; 0 when the output is no classifier.</summary>
    public int Items { get; init; }

    /// <summary>How many inputs were measured (1: the seeded one).</summary>
    public int Inputs { get; init; } = 1;

    /// <summary>
    /// Several inputs' measurements of one output as one: the largest max error, the mean of the
    /// mean errors (each input has as many elements), the agreements over all items.
    /// </summary>
    public static OutputAccuracy Combine(IReadOnlyList<OutputAccuracy> parts)
    {
        ArgumentOutOfRangeException.ThrowIfZero(parts.Count);
        var items = parts.Sum(p => p.Items);
        double? Pooled(Func<OutputAccuracy, double?> agreement) =>
            items > 0 && parts.All(p => agreement(p) is not null) ? parts.Sum(p => agreement(p)!.Value * p.Items) / items : null;
        return parts[0] with
        {
            MaxRelativeError = parts.Max(p => p.MaxRelativeError),
            MeanRelativeError = parts.Average(p => p.MeanRelativeError),
            Top1Agreement = Pooled(p => p.Top1Agreement),
            Top5Agreement = Pooled(p => p.Top5Agreement),
            Items = items,
            Inputs = parts.Sum(p => p.Inputs),
        };
    }

    public static OutputAccuracy Measure(string subject, string output, Shape shape, ReadOnlySpan<float> actual, ReadOnlySpan<float> expected)
    {
        if (actual.Length != expected.Length)
        {
            throw new ArgumentException($"'{output}' has {actual.Length} values where the original has {expected.Length}.", nameof(actual));
        }

        double magnitude = 0, sum = 0, max = 0;
        for (var i = 0; i < expected.Length; i++)
        {
            magnitude = Math.Max(magnitude, Math.Abs(expected[i]));
            var error = Math.Abs((double)actual[i] - expected[i]);
            // NaN in either side is the worst error there is, not one that comparisons skip.
            max = double.IsNaN(error) ? double.PositiveInfinity : Math.Max(max, error);
            sum += error;
        }

        var scale = magnitude > 0 ? magnitude : 1;
        var classifier = shape.Rank == 2 || (shape.Rank == 4 && shape[2] == 1 && shape[3] == 1);
        var classes = shape.Rank >= 2 ? (int)shape[1] : 0;
        double? top1 = null, top5 = null;
        if (classifier && classes >= 2 && expected.Length > 0)
        {
            var items = expected.Length / classes;
            int sameTop1 = 0, inTop5 = 0;
            for (var item = 0; item < items; item++)
            {
                var original = expected.Slice(item * classes, classes);
                var exported = actual.Slice(item * classes, classes);
                var best = ArgMax(original);
                sameTop1 += ArgMax(exported) == best ? 1 : 0;
                inTop5 += Rank(exported, best) < 5 ? 1 : 0;
            }

            top1 = (double)sameTop1 / items;
            top5 = classes >= 5 ? (double)inTop5 / items : null;
        }

        return new OutputAccuracy(subject, output, max / scale, expected.Length == 0 ? 0 : sum / expected.Length / scale, top1, top5)
        {
            Items = top1 is null ? 0 : expected.Length / classes,
        };
    }

    private static int ArgMax(ReadOnlySpan<float> values)
    {
        var best = 0;
        for (var i = 1; i < values.Length; i++)
        {
            best = values[i] > values[best] ? i : best;
        }

        return best;
    }

    /// <summary>How many classes score above class <paramref name="index"/> (0: it is the top-1).</summary>
    private static int Rank(ReadOnlySpan<float> values, int index)
    {
        var above = 0;
        foreach (var value in values)
        {
            above += value > values[index] ? 1 : 0;
        }

        return above;
    }

    public override string ToString()
    {
        var sb = new StringBuilder();
        sb.Append(CultureInfo.InvariantCulture, $"{Subject}: max rel error {Percent(MaxRelativeError)}, mean rel error {Percent(MeanRelativeError)}");
        if (Top1Agreement is { } top1)
        {
            sb.Append(CultureInfo.InvariantCulture, $", top-1 agreement {Percent(top1)}");
        }

        if (Top5Agreement is { } top5)
        {
            sb.Append(CultureInfo.InvariantCulture, $", top-5 agreement {Percent(top5)}");
        }

        if (Inputs > 1)
        {
            sb.Append(CultureInfo.InvariantCulture, $" (over {Inputs} inputs{(Items > 0 ? $", {Items} items" : string.Empty)})");
        }

        return sb.ToString();
    }

    internal static string Percent(double fraction) => string.Create(CultureInfo.InvariantCulture, $"{fraction * 100:0.####}%");
}

/// <summary>
/// The check of a lossy export: a measurement, not an equality proof. Every output's error (see
/// <see cref="OutputAccuracy"/>) against an optional budget on the max relative error; over the budget is
/// NM1010, naming the outputs over it and the layers whose weights moved most.
/// </summary>
public sealed record AccuracyReport(IReadOnlyList<OutputAccuracy> Outputs, double? MaxOutputError, IReadOnlyList<LossyWeight> Weights)
{
    /// <summary>The least share of items whose top-1 class must stay the original's, on every classifier output (a fraction; null: no budget).</summary>
    public double? MinTop1Agreement { get; init; }

    /// <summary>What was measured on ("1 seeded synthetic input", "50 input files in data/").</summary>
    public string MeasuredOn { get; init; } = Evaluation.EvaluationInputs.SyntheticDescription;

    /// <summary>The box agreement of each detection head (SSD DetectionOutput) whose boxes the measured outputs determine.</summary>
    public IReadOnlyList<Evaluation.BoxAgreement> Detections { get; init; } = [];

    /// <summary>Classifier outputs whose top-1 agreement is below <see cref="MinTop1Agreement"/>.</summary>
    public IEnumerable<OutputAccuracy> BelowTop1Agreement =>
        MinTop1Agreement is { } least ? Outputs.Where(o => o.Top1Agreement < least) : [];

    /// <summary>A budget written as a percentage ("2%", "0.5%") as a fraction; anything else is NM0343.</summary>
    public static double ParseBudget(string text, SourceLocation where) => Budgets.OutputErrorBudget.Parse(text, where);

    public bool Passed => WithinOutputError && !BelowTop1Agreement.Any();

    private bool WithinOutputError => MaxOutputError is not { } budget || Outputs.All(o => o.MaxRelativeError <= budget);

    public string Summary()
    {
        var verdicts = new List<string>();
        if (MaxOutputError is { } budget)
        {
            verdicts.Add($"{(WithinOutputError ? "within" : "OVER")} MaxOutputError={OutputAccuracy.Percent(budget)}");
        }

        if (MinTop1Agreement is { } least)
        {
            verdicts.Add($"{(BelowTop1Agreement.Any() ? "BELOW" : "at least")} MinTop1Agreement={OutputAccuracy.Percent(least)}");
        }

        var verdict = verdicts.Count > 0 ? string.Join(", ", verdicts) : "no budget";
        return $"measured (lossy export, error relative to max|output|) on {MeasuredOn}: {verdict}; {string.Join("; ", Outputs.Select(o => o.ToString()).Concat(Detections.Select(d => d.ToString())))}";
    }

    /// <summary>The weights that moved most (RMS error relative to their RMS), at most <paramref name="count"/>.</summary>
    public IEnumerable<LossyWeight> MostMoved(int count = 3) => Weights.OrderByDescending(w => w.RelativeError).Take(count);

    /// <param name="where">Where the error is when no layer is named (the model file).</param>
    /// <param name="contributions">
    /// Measures each quantized layer's output error alone (<see cref="Verifier.LayerContributions"/>),
    /// called only when the output error is over the budget: the error is then located at the layer that
    /// contributes most and names the three that do, as the build's does. Null: the weights that moved
    /// most are named instead (a runtime's check, where the exported model is not at hand).
    /// </param>
    public void ThrowIfOverBudget(SourceLocation where, Func<IReadOnlyList<LayerContribution>>? contributions = null)
    {
        if (Passed)
        {
            return;
        }

        if (WithinOutputError)
        {
            throw DiagnosticCodes.Top1AgreementBelowBudget.Exception(where,
                $"the quantized export keeps the original's top-1 class on fewer items than MinTop1Agreement={OutputAccuracy.Percent(MinTop1Agreement!.Value)} (measured on {MeasuredOn}): {string.Join("; ", BelowTop1Agreement)}.");
        }

        var over = Outputs.Where(o => o.MaxRelativeError > MaxOutputError!.Value).Select(o => o.ToString());
        var exceeds = $"the quantized export's output error exceeds MaxOutputError={OutputAccuracy.Percent(MaxOutputError!.Value)}: {string.Join("; ", over)}.";
        var top = contributions?.Invoke().Take(3).ToList() ?? [];
        if (top.Count > 0)
        {
            throw DiagnosticCodes.OutputErrorBudgetExceeded.Exception(top[0].Layer.Location.HasLine ? top[0].Layer.Location : where,
                $"{exceeds} Layers contributing most (each quantized alone): {string.Join("; ", top.Select(c => $"{c.Layer.Describe()}: {OutputAccuracy.Percent(c.OutputError)}"))}.");
        }

        var layers = MostMoved().Select(w => string.Create(CultureInfo.InvariantCulture,
            $"layer {w.Layer.Index} [{w.Layer.Kind}] '{w.Layer.Name}' ({w.Encoding}, weight RMS error {OutputAccuracy.Percent(w.RelativeError)} of their RMS)"));
        throw DiagnosticCodes.OutputErrorBudgetExceeded.Exception(where, $"{exceeds} Layers whose weights moved most: {string.Join("; ", layers)}.");
    }
}

/// <summary>One quantized layer's output error when it alone is quantized (weights, and calibrated activations), largest first.</summary>
public sealed record LayerContribution(LayerOrigin Layer, double OutputError);
