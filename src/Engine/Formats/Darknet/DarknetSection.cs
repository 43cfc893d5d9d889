using NeuralBuild.Engine.Diagnostics;
using NeuralBuild.Engine.Ir;
using NeuralBuild.Engine.Ops;

namespace NeuralBuild.Engine.Formats.Darknet;

/// <summary>
/// One cfg section as a mapper sees it: the section, its layer index and location, the value it reads,
/// and the helpers that add its nodes and stored tensors to the graph being built.
/// </summary>
internal sealed class DarknetSection(DarknetGraphBuilder builder, DarknetLayer layer, string input)
{
    public DarknetLayer Layer { get; } = layer;

    public CfgSection Section => Layer.Section;

    public int Index => Layer.Index;

    public string Type => Section.Type;

    public SourceLocation Location => Section.Location;

    /// <summary>The value the section reads: the previous layer's output.</summary>
    public string Input { get; } = input;

    public Shape InputShape => builder.ShapeOf(Input);

    public DarknetDialect Dialect => builder.Dialect;

    public string Prefix => $"layer{Index}";

    public Shape ShapeOf(string value) => builder.ShapeOf(value);

    /// <summary>Adds a node of the layer's origin and returns its first output.</summary>
    public string Add(Node node) => builder.AddNode(node);

    /// <summary>A one-node layer whose output is named after the layer.</summary>
    public string Emit(string op, List<string> inputs, Action<Attributes>? configure = null, bool inPlace = false)
    {
        var node = new Node($"{Prefix}/{op}", op, inputs, [Prefix], Layer.Origin) { InPlace = inPlace };
        configure?.Invoke(node.Attributes);
        return Add(node);
    }

    /// <summary>A tensor the .weights file holds for this layer; <paramref name="order"/> is its place in the file.</summary>
    public string Weight(string role, Shape shape, int order) => builder.AddStored(Layer, role, shape, order);

    public DarknetLayer Resolve(long index, CfgOption option) => builder.ResolveLayer(Layer, index, option);

    /// <summary>The layer a from=/layers= entry names, relative when negative.</summary>
    public DarknetLayer ResolveRelative(long index, CfgOption option) => Resolve(index < 0 ? Index + index : index, option);

    public string Activate(string input, string function)
    {
        if (function == "linear")
        {
            return input;
        }

        var node = new Node($"{Prefix}/act", "Activation", [input], [$"{Prefix}/act"], Layer.Origin) { InPlace = true };
        ActivationAttributes(node.Attributes, function);
        return Add(node);
    }

    /// <summary>The section's activation= (darknet's default when absent) after <paramref name="input"/>.</summary>
    public string ActivateAsConfigured(string input, string defaultFunction) => Activate(input, Section.String("activation", defaultFunction));

    public Attributes ActivationAttributes(Attributes attributes, string function)
    {
        if (!Activation.IsKnown(function))
        {
            throw DiagnosticCodes.CfgInvalidValue.Exception(Section.Find("activation")?.Location ?? Location,
                $"activation={function} is not a Darknet activation; known: {string.Join(", ", Activation.KnownFunctions)}.");
        }

        return attributes.Set("function", function).Set("alpha", function == "leaky" ? 0.1 : 0.0);
    }

    public string BatchNorm(string input, string scales, string biases, string mean, string variance, bool connected)
    {
        var bn = new Node($"{Prefix}/bn", "BatchNormalization", [input, scales, biases, mean, variance], [$"{Prefix}/bn"], Layer.Origin) { InPlace = true };
        SetBatchNormEpsilon(bn, connected);
        return Add(bn);
    }

    /// <summary>The BN arithmetic of the dialect (docs/folding.md): AlexeyAB adds eps inside the root.</summary>
    public void SetBatchNormEpsilon(Node bn, bool connected)
    {
        if (Dialect == DarknetDialect.AlexeyAB)
        {
            bn.Attributes.Set("epsilon", connected ? 1e-6 : 1e-5).Set("epsilon_placement", "inside");
        }
        else
        {
            bn.Attributes.Set("epsilon", 1e-6).Set("epsilon_placement", "outside");
        }
    }

    /// <summary>A [convolutional]'s stored tensors by layer index, for share_index (which may name a layer that shares in turn).</summary>
    public DarknetConvParameters? ConvParametersOf(int layerIndex) => builder.ConvParameters.GetValueOrDefault(layerIndex);

    public void RememberConvParameters(DarknetConvParameters parameters) => builder.ConvParameters[Index] = parameters;
}
