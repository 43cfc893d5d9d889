using NeuralBuild.Engine.Evaluation;
using System.Globalization;
using NeuralBuild.Engine.Diagnostics;
using NeuralBuild.Engine.Ir;

namespace NeuralBuild.Engine.Pruning;

/// <summary>How channels are ranked by importance (<see cref="ChannelImportance"/>).</summary>
public enum PruneCriterion
{
    /// <summary>Entropy of the channel's activations over the calibration inputs (32-bin histogram of its values).</summary>
    Entropy,

    /// <summary>|γ| of the layer's BatchNorm.</summary>
    BnGamma,

    /// <summary>L1 norm of the channel's filter.</summary>
    L1,
}

/// <summary>One <c>prune-plan</c>: the model, how to rank, how many channels per layer, on which inputs.</summary>
public sealed record PrunePlanRequest
{
    public static IReadOnlyList<string> CriterionNames { get; } = ["entropy", "bn-gamma", "l1"];

    public required string DefinitionPath { get; init; }

    public string? WeightsPath { get; init; }

    public Shape? InputShape { get; init; }

    public IReadOnlyDictionary<string, string> FormatOptions { get; init; } = Formats.FormatOptions.None;

    public PruneCriterion Criterion { get; init; } = PruneCriterion.Entropy;

    /// <summary>Channels to remove per layer; null: <see cref="Fraction"/> of each layer's.</summary>
    public int? Remove { get; init; }

    /// <summary>Share of each layer's channels to remove (rounded down, at least 1) when <see cref="Remove"/> is null.</summary>
    public double Fraction { get; init; } = 0.25;

    /// <summary>Layers to plan (conv node names, layer names or layer indices); null: every conv layer.</summary>
    public IReadOnlyList<string>? Layers { get; init; }

    /// <summary>Seeded inputs the activations (entropy) and the output errors are measured on, when <see cref="Inputs"/> is not given.</summary>
    public int Samples { get; init; } = 8;

    /// <summary>
    /// The user's inputs (<c>--inputs</c>: .npy tensors and images, prepared as they declare) to measure
    /// on instead of seeded ones; null: <see cref="Samples"/> seeded inputs. Held in memory for the
    /// whole plan (each layer's pruning is measured on all of them), so at most <see cref="MaxInputs"/>.
    /// </summary>
    public EvaluationInputs? Inputs { get; init; }

    public const int MaxInputs = 4096;

    public ulong Seed { get; init; } = 0x5EED;

    /// <summary>Folder for the pruned (not retrained) model in its own format; null: plan only.</summary>
    public string? OutputDirectory { get; init; }

    /// <summary>The criterion of its command-line name; anything else is NM0380.</summary>
    public static PruneCriterion ParseCriterion(string text) => text switch
    {
        "entropy" => PruneCriterion.Entropy,
        "bn-gamma" => PruneCriterion.BnGamma,
        "l1" => PruneCriterion.L1,
        _ => throw DiagnosticCodes.InvalidPruneOption.Exception(SourceLocation.None, $"--criterion '{text}' is not one of {string.Join(", ", CriterionNames)}."),
    };

    public static string NameOf(PruneCriterion criterion) => CriterionNames[(int)criterion];

    /// <summary>NM0380 for a count, share or sample number out of range.</summary>
    public void Check()
    {
        string? wrong = (Remove, Fraction, Samples) switch
        {
            ({ } k, _, _) when k < 1 => $"--remove {k}: remove at least 1 channel per layer.",
            (null, var f, _) when !(f > 0 && f < 1) => string.Create(CultureInfo.InvariantCulture, $"--fraction {f}: give a share of each layer's channels above 0 and below 1."),
            (_, _, var n) when n < 1 || n > MaxInputs => $"--samples {n}: measure on 1 to {MaxInputs} inputs.",
            _ when Inputs is { Count: > MaxInputs } given => $"--inputs: {given.Describe()}; measure on at most {MaxInputs} (each is held in memory for the whole plan).",
            _ => null,
        };
        if (wrong is not null)
        {
            throw DiagnosticCodes.InvalidPruneOption.Exception(SourceLocation.None, wrong);
        }
    }
}
