using NeuralBuild.Engine.Ir;

namespace NeuralBuild.Engine.Passes;

/// <summary>What a rewrite does to one node, as the writer that must write the result sees it.</summary>
public enum NodeEdit
{
    /// <summary>The node leaves the graph; its readers read another value.</summary>
    Removed,

    /// <summary>
    /// The node leaves the graph together with every other node its source layer was lowered into
    /// (<see cref="LayerOrigin.Lowered"/>): the whole layer goes, as one node's layer goes with <see cref="Removed"/>.
    /// </summary>
    LayerRemoved,

    /// <summary>The node keeps its operator and inputs' meaning but reads new parameter initializers (a fold's weights and bias).</summary>
    ParametersReplaced,

    /// <summary>The node is new: a pass made it, so no layer or node of the source file stands for it.</summary>
    Created,

    /// <summary>
    /// The node carries fewer channels: a producer loses output channels (filter rows, bias entries,
    /// and a depthwise conv its groups), a consumer the matching input slice of its weights, and a node
    /// in between (pooling, activation, concat, add) passes fewer on. What the written file must state
    /// is the new channel count where it states one (a cfg's <c>filters=</c>, Caffe's <c>num_output</c>).
    /// </summary>
    ChannelsRemoved,

    /// <summary>
    /// The node keeps its operator and inputs but states new attribute values that the file states
    /// too (a detection head's class count, a Reshape's dimensions, DetectionOutput's num_classes).
    /// </summary>
    AttributesChanged,

    /// <summary>The node or a value it produces takes a new name (model surgery's rename).</summary>
    Renamed,
}

/// <summary>
/// What the writer of the model's format can express of a graph the passes changed. A pass asks
/// <see cref="GraphEditor.CannotExpress"/> before it rewrites, so an edit the writer could not
/// write is "not applied: the Caffe writer cannot express …" in the pass report, never an
/// exception at write time. A format without limits (a writer that lowers any IR) uses <see cref="Any"/>.
/// </summary>
public abstract class WriterContract
{
    /// <summary>Accepts every edit: analysis and verification runs that write nothing.</summary>
    public static WriterContract Any { get; } = new Unlimited();

    /// <summary>How people name the writer ("Caffe"), completing "the Caffe writer cannot express …".</summary>
    public abstract string WriterName { get; }

    /// <summary>Null when the writer can write <paramref name="node"/> after <paramref name="edit"/>; otherwise what it cannot express ("new parameters of a Normalize layer").</summary>
    public abstract string? CannotExpress(Node node, NodeEdit edit);

    private sealed class Unlimited : WriterContract
    {
        public override string WriterName => "any";

        public override string? CannotExpress(Node node, NodeEdit edit) => null;
    }
}
