using System.Globalization;
using NeuralBuild.Engine.Diagnostics;
using NeuralBuild.Engine.Ir;
using NeuralBuild.Engine.Ops;

namespace NeuralBuild.Engine.Passes;

/// <summary>How much of a fully connected layer a low-rank factorisation keeps: a fraction of the spectrum's energy, or a rank.</summary>
public sealed record LowRankTarget(double? Energy, int? Rank)
{
    /// <summary><c>0.99</c> (energy kept, in (0, 1]) or <c>rank:N</c> (N ≥ 1); anything else is NM0320.</summary>
    public static LowRankTarget Parse(string text, SourceLocation where)
    {
        ArgumentNullException.ThrowIfNull(text);
        var trimmed = text.Trim();
        if (trimmed.StartsWith("rank:", StringComparison.OrdinalIgnoreCase)
            && int.TryParse(trimmed.AsSpan(5), NumberStyles.None, CultureInfo.InvariantCulture, out var rank) && rank >= 1)
        {
            return new LowRankTarget(null, rank);
        }

        if (double.TryParse(trimmed, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var energy) && energy > 0 && energy <= 1)
        {
            return new LowRankTarget(energy, null);
        }

        throw DiagnosticCodes.InvalidLowRankTarget.Exception(where,
            $"low-rank target '{text}': give the fraction of the energy to keep, in (0, 1] (0.99), or a rank (rank:64).");
    }

    public override string ToString() => Rank is { } r ? $"rank:{r.ToString(CultureInfo.InvariantCulture)}" : Energy!.Value.ToString("R", CultureInfo.InvariantCulture);
}

/// <summary>
/// Replaces a fully connected layer by two thinner ones, from a truncated SVD of its weights. Lossy:
/// the pipeline measures what it costs by running both models (<c>--low-rank-fc</c>; not in
/// <see cref="PassManager.Default"/>).
/// <para>Before: <c>X → FullyConnected(W (J×I), b) → Y</c></para>
/// <para>After: <c>X → FullyConnected(A (r×I), 0) → FullyConnected(B (J×r), b) → Y</c></para>
/// <para>Preconditions: weights constant, loaded, not shared and stored (outputs, inputs); a plain
/// <c>y = W x + b</c> (no Gemm alpha/beta); the smaller side of W at most
/// <see cref="LowRankFactors.MaxSide"/>; r(I + J + 1) &lt; I·J (the two layers, with the first one's
/// zero bias that Darknet stores, hold fewer parameters than one); the writer can add the layer.</para>
/// <para>Formula: <see cref="LowRankFactors"/>: r is the smallest rank keeping the target energy
/// (<c>Σ_{k&lt;r} σ_k² ≥ e Σ σ²</c>) or the target rank; the weights' relative error
/// <c>‖W − BA‖_F / ‖W‖_F = sqrt(1 − kept energy)</c> is reported with the parameters saved.</para>
/// </summary>
public sealed class LowRankFullyConnected(LowRankTarget target) : GraphPass
{
    public override string Name => "LowRankFullyConnected";

    public override void Run(GraphEditor graph, PassReport report)
    {
        ArgumentNullException.ThrowIfNull(graph);
        ArgumentNullException.ThrowIfNull(report);
        foreach (var fc in graph.Graph.Nodes.Where(n => n.OpType == "FullyConnected").ToList())
        {
            // The two layers of a factorisation (an earlier round's) are not factorised again.
            if (fc.Name.EndsWith(FirstSuffix, StringComparison.Ordinal) || graph.Producer(fc.Inputs[0])?.Name == fc.Name + FirstSuffix)
            {
                continue;
            }

            if (Refusal(graph, fc) is { } reason)
            {
                NotApplied(report, fc, reason);
                continue;
            }

            var weights = graph.Graph.Initializers[fc.Inputs[1]];
            int outputs = (int)weights.Shape[0], inputs = (int)weights.Shape[1];
            var factors = LowRankFactors.Of(weights.Data!.ToArray(), outputs, inputs);
            var rank = Math.Min(target.Rank ?? factors.RankFor(target.Energy!.Value), factors.FullRank);
            long before = (long)outputs * inputs, after = (long)rank * (inputs + outputs + 1);
            var kept = factors.EnergyKept(rank);
            if (after >= before)
            {
                NotApplied(report, fc, string.Create(CultureInfo.InvariantCulture,
                    $"rank {rank} of {factors.FullRank} keeps {kept:P3} of the energy but two layers of {after:N0} parameters are not fewer than its {before:N0}"));
                continue;
            }

            var (first, second) = factors.Factors(rank);
            var firstWeights = new Initializer(graph.UniqueValueName(fc.Name + "/low_rank_a"), new Shape(rank, inputs), new ArrayData(first));
            var firstBias = new Initializer(graph.UniqueValueName(fc.Name + "/low_rank_a_bias"), new Shape(rank), new ArrayData(new float[rank]));
            var secondWeights = new Initializer(graph.UniqueValueName(fc.Name + "/low_rank_b"), new Shape(outputs, rank), new ArrayData(second));
            var firstNode = new Node(fc.Name + FirstSuffix, "FullyConnected", [fc.Inputs[0], firstWeights.Name, firstBias.Name], [graph.UniqueValueName(fc.Name + FirstSuffix)], fc.Origin);
            graph.AddInitializer(firstWeights);
            graph.AddInitializer(firstBias);
            graph.AddInitializer(secondWeights);
            graph.InsertBefore(fc, firstNode);
            graph.SetInput(fc, 0, firstNode.Outputs[0]);
            graph.SetInput(fc, 1, secondWeights.Name);
            graph.ShapesChanged();
            var error = Math.Sqrt(Math.Max(0, 1 - kept));
            report.LowRank.Add(new LowRankRecord(Name, fc.Name, fc.Origin, inputs, outputs, rank, factors.FullRank, kept, error, before - after));
            Applied(report, fc, string.Create(CultureInfo.InvariantCulture,
                $"rank {rank} of {factors.FullRank} ({inputs} -> {rank} -> {outputs}): keeps {kept:P3} of the energy, weights' relative error {error:G3}, params {before:N0} -> {after:N0} (-{before - after:N0})"));
        }

        graph.RemoveUnusedInitializers();
    }

    /// <summary>The first of the two layers a factorisation makes is named after the layer with this suffix.</summary>
    public const string FirstSuffix = "/low_rank";

    private static string? Refusal(GraphEditor graph, Node fc)
    {
        var attributes = fc.AttributesAs<FullyConnectedAttributes>();
        var initializers = graph.Graph.Initializers;
        if (!initializers.TryGetValue(fc.Inputs[1], out var weights) || weights.Data is null || graph.ReadingNodeCount(fc.Inputs[1]) != 1)
        {
            return "its weights are not constant, not loaded or shared with another layer";
        }

        if (attributes.Transposed || attributes.Alpha != 1 || attributes.Beta != 1)
        {
            return "its weights are stored (inputs, outputs) or it scales its product (Gemm alpha/beta); the factorisation assumes y = W x + b with W (outputs, inputs)";
        }

        var side = Math.Min(weights.Shape[0], weights.Shape[1]);
        if (side > LowRankFactors.MaxSide)
        {
            return string.Create(CultureInfo.InvariantCulture, $"its weights are {weights.Shape}: the smaller side, {side}, is over {LowRankFactors.MaxSide}, the largest this factorisation handles in a build's time");
        }

        var firstNode = new Node(fc.Name + FirstSuffix, "FullyConnected", [fc.Inputs[0], fc.Inputs[1]], [fc.Name + FirstSuffix], fc.Origin);
        return graph.CannotExpress(firstNode, NodeEdit.Created) ?? graph.CannotExpress(fc, NodeEdit.ParametersReplaced);
    }
}
