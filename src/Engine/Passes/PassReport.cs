using NeuralBuild.Engine.Diagnostics;
using NeuralBuild.Engine.Ir;

namespace NeuralBuild.Engine.Passes;

public enum PassOutcome
{
    Applied,
    NotApplied,
    Warning,
}

/// <summary>One thing a pass did or declined to do, about one node.</summary>
public sealed record PassEvent(string Pass, PassOutcome Outcome, string Node, LayerOrigin Origin, string Detail)
{
    public override string ToString() =>
        $"{Origin.Location}: {Pass} {(Outcome == PassOutcome.Applied ? "applied" : Outcome == PassOutcome.NotApplied ? "not applied" : "warning")} at layer {Origin.Index} [{Origin.Kind}] ({Node}): {Detail}";
}

/// <summary>
/// A fold, recorded so <c>Verify=Layers</c> can run the original nodes and their replacement on
/// the same random patch. Nodes and initializers are snapshots taken before the rewrite.
/// </summary>
public sealed record FoldRecord(
    string Pass,
    LayerOrigin Origin,
    string Input,
    Shape InputShape,
    IReadOnlyList<Node> OriginalNodes,
    IReadOnlyDictionary<string, Initializer> OriginalInitializers,
    IReadOnlyList<Node> ReplacementNodes,
    IReadOnlyDictionary<string, Initializer> ReplacementInitializers);

/// <summary>
/// What pruning changed at one node: the channels it lost (output channels of a producer, the input
/// slice of a consumer, or both) and its parameters, MACC and weight bytes before and after.
/// </summary>
public sealed record ChannelPruning(
    string Pass,
    string Node,
    LayerOrigin Origin,
    int OutputChannelsRemoved,
    int InputChannelsRemoved,
    long ParamsBefore,
    long ParamsAfter,
    long MaccBefore,
    long MaccAfter,
    long WeightBytesBefore,
    long WeightBytesAfter)
{
    public long ParamsSaved => ParamsBefore - ParamsAfter;

    public long MaccSaved => MaccBefore - MaccAfter;

    public long WeightBytesSaved => WeightBytesBefore - WeightBytesAfter;
}

/// <summary>
/// A fully connected layer written as two: its sizes, the rank kept of the full rank, the energy kept,
/// the weights' relative Frobenius error and the parameters saved. The output difference it causes is
/// measured by the pipeline, which runs both models.
/// </summary>
public sealed record LowRankRecord(
    string Pass,
    string Node,
    LayerOrigin Origin,
    int Inputs,
    int Outputs,
    int Rank,
    int FullRank,
    double EnergyKept,
    double WeightsRelativeError,
    long ParamsSaved);

/// <summary>Everything the passes of one run applied, refused and warned about.</summary>
public sealed class PassReport
{
    public List<PassEvent> Events { get; } = [];

    public List<FoldRecord> Folds { get; } = [];

    public List<Diagnostic> Warnings { get; } = [];

    /// <summary>Per node, what channel pruning removed and saved.</summary>
    public List<ChannelPruning> Pruning { get; } = [];

    /// <summary>Fully connected layers a low-rank factorisation replaced (lossy).</summary>
    public List<LowRankRecord> LowRank { get; } = [];

    public IEnumerable<PassEvent> Applied => Events.Where(e => e.Outcome == PassOutcome.Applied);

    public IEnumerable<PassEvent> NotApplied => Events.Where(e => e.Outcome == PassOutcome.NotApplied);
}
