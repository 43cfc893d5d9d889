using NeuralBuild.Engine.Ir;

namespace NeuralBuild.Engine.Passes;

/// <summary>
/// A rewrite of the IR. Cheap structural checks first, then preconditions on the data, then the
/// rewrite; a failed precondition is recorded as "not applied" with the reason, never thrown.
/// Only malformed input (non-finite statistics) is a coded error. Edits go through the
/// <see cref="GraphEditor"/>, which keeps its lookups and shapes current.
/// </summary>
public abstract class GraphPass
{
    public abstract string Name { get; }

    public abstract void Run(GraphEditor graph, PassReport report);

    protected void Applied(PassReport report, Node node, string detail) =>
        report.Events.Add(new PassEvent(Name, PassOutcome.Applied, node.Name, node.Origin, detail));

    protected void NotApplied(PassReport report, Node node, string reason) =>
        report.Events.Add(new PassEvent(Name, PassOutcome.NotApplied, node.Name, node.Origin, reason));
}
