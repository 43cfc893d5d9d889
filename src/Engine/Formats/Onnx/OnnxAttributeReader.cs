using System.Text;
using NeuralBuild.Engine.Formats.Onnx.Proto;
using AttributeType = NeuralBuild.Engine.Formats.Onnx.Proto.AttributeProto.Types.AttributeType;

namespace NeuralBuild.Engine.Formats.Onnx;

/// <summary>
/// Typed reads of a node's attributes. An attribute given twice, or declaring another type than the
/// one read (an INT read from a FLOAT attribute would be a silent 0), is NM0209; files from before
/// typed attributes (UNDEFINED) are read by field.
/// </summary>
internal sealed class OnnxAttributeReader(OnnxNode node)
{
    public AttributeProto? Get(string name, AttributeType type)
    {
        AttributeProto? found = null;
        foreach (var a in node.Proto.Attribute)
        {
            if (a.Name != name)
            {
                continue;
            }

            if (found is not null)
            {
                throw node.Invalid($"attribute '{name}' is given twice");
            }

            if (a.Type != type && a.Type != AttributeType.Undefined)
            {
                throw node.Invalid($"attribute '{name}' is of type {a.Type.ToString().ToUpperInvariant()}; {node.OpType} takes it as {type.ToString().ToUpperInvariant()}");
            }

            found = a;
        }

        return found;
    }

    public long Int(string name, long fallback) => Get(name, AttributeType.Int) is { } a ? a.I : fallback;

    /// <summary>A boolean INT attribute: 0 or 1, as the operator specs define it; any other value is NM0209.</summary>
    public long Flag(string name, long fallback)
    {
        var value = Int(name, fallback);
        return value is 0 or 1 ? value : throw node.Invalid($"attribute '{name}' is {value}; it is a flag, 0 or 1");
    }

    public float Float(string name, float fallback) => Get(name, AttributeType.Float) is { } a ? a.F : fallback;

    public string String(string name, string fallback) => Get(name, AttributeType.String) is { } a ? Encoding.UTF8.GetString(a.S.Span) : fallback;

    public long[]? Ints(string name) => Get(name, AttributeType.Ints) is { } a ? [.. a.Ints] : null;

    public double[]? Floats(string name) => Get(name, AttributeType.Floats) is { } a ? [.. a.Floats.Select(f => (double)f)] : null;

    public TensorProto? Tensor(string name) => Get(name, AttributeType.Tensor)?.T;
}
