using NeuralBuild.Engine.Diagnostics;
using NeuralBuild.Engine.Execution;
using NeuralBuild.Engine.Ir;

namespace NeuralBuild.Engine.Ops;

/// <summary>
/// Caffe Reshape: replaces input axes <c>axis</c> .. <c>axis + num_axes</c> (num_axes -1: to the end)
/// by <c>shape</c>, where 0 copies the input dimension at that position and one -1 is inferred
/// from the element count. A view: no memory moves.
/// </summary>
public sealed class Reshape : OpKind<ReshapeAttributes>
{
    public const string OpType = "Reshape";

    public override string Name => OpType;

    internal override Kernel Kernel { get; } = new ViewKernel();

    protected override ReshapeAttributes Parse(AttributeReader attributes) =>
        new(attributes.Ints("shape"), attributes.Int("axis", 0), attributes.Int("num_axes", -1));

    protected override Shape[] Infer(OpContext context)
    {
        var x = context.Input(0);
        var (spec, axisAttribute, numAxes) = AttributesOf(context.Node);
        var start = axisAttribute < 0 ? axisAttribute + x.Rank + 1 : axisAttribute;
        var end = numAxes == -1 ? x.Rank : start + numAxes;
        if (start < 0 || start > x.Rank || numAxes < -1 || end > x.Rank)
        {
            throw context.Error(DiagnosticCodes.AttributeOutOfRange, $"axis {axisAttribute} and num_axes {numAxes} do not select axes of {x}.");
        }

        var dims = new List<long>(x.Dims.Take((int)start));
        var inferred = -1;
        for (var i = 0; i < spec.Length; i++)
        {
            var d = spec[i];
            if (d == 0)
            {
                if (start + i >= x.Rank)
                {
                    throw context.Error(DiagnosticCodes.AttributeOutOfRange, $"dim {i} is 0 (copy) but the input {x} has no axis {start + i}.");
                }

                dims.Add(x[(int)(start + i)]);
            }
            else if (d == -1)
            {
                if (inferred >= 0)
                {
                    throw context.Error(DiagnosticCodes.AttributeOutOfRange, "only one dimension may be -1 (inferred).");
                }

                inferred = dims.Count;
                dims.Add(1);
            }
            else if (d < -1)
            {
                throw context.Error(DiagnosticCodes.AttributeOutOfRange, $"dim {i} is {d}; dimensions are positive, 0 (copy) or -1 (infer).");
            }
            else
            {
                dims.Add(d);
            }
        }

        dims.AddRange(x.Dims.Skip((int)end));
        var known = Checked.Product(dims.ToArray());
        var total = x.ElementCount;
        if (inferred >= 0)
        {
            if (known == 0 || total % known != 0)
            {
                throw context.Error(DiagnosticCodes.ShapeMismatch, $"cannot infer the -1 dimension: {total} elements of {x} are not a multiple of {known}.");
            }

            dims[inferred] = total / known;
        }
        else if (known != total)
        {
            throw context.Error(DiagnosticCodes.ShapeMismatch, $"{x} has {total} elements but the new shape {string.Join('x', dims)} has {known}.");
        }

        return [new Shape([.. dims])];
    }

    public override OpCost Cost(OpContext context) => new() { NoMemoryTraffic = true };
}

/// <summary>Attributes of <see cref="Reshape"/> (Caffe ReshapeParameter): the new dims (0 copies, one -1 is inferred) and the input axes they replace.</summary>
public sealed record ReshapeAttributes(long[] Shape, long Axis, long NumAxes);
