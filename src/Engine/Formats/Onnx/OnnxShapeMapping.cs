using NeuralBuild.Engine.Ir;
using NeuralBuild.Engine.Ops;

namespace NeuralBuild.Engine.Formats.Onnx;

/// <summary>
/// Operators that only rearrange: Reshape, Flatten, Squeeze, Unsqueeze, Transpose, Concat. Their
/// output shape (<see cref="ReshapedShape"/>) also serves the folder on constants.
/// </summary>
internal static class OnnxShapeMapping
{
    public static void Reshape(OnnxNode n)
    {
        var shape = n.Ints(1, "shape");
        if (n.Attr.Flag("allowzero", 0) != 0 && shape.Contains(0))
        {
            throw n.Invalid("allowzero=1 with a 0 in the shape (an empty tensor) is not supported");
        }

        n.Emit("Reshape", [n.X], new Attributes().Set("shape", shape));
    }

    public static void Flatten(OnnxNode n)
    {
        var x = n.Value(0);
        var shape = n.ShapeOf(x);
        var axis = OnnxNode.Norm(n.Attr.Int("axis", 1), shape.Rank, clamp: false);
        if (axis == 1 && shape.Rank >= 2)
        {
            n.Emit("Flatten", [x], new Attributes().Set("axis", 1L).Set("end_axis", -1L));
            return;
        }

        n.Emit("Reshape", [x], new Attributes().Set("shape", ReshapedShape(n, shape).Dims.ToArray()));
    }

    public static void SqueezeOrUnsqueeze(OnnxNode n) =>
        n.Emit("Reshape", [n.X], new Attributes().Set("shape", ReshapedShape(n, n.ShapeOf(n.X)).Dims.ToArray()));

    public static void Transpose(OnnxNode n)
    {
        var rank = n.ShapeOf(n.X).Rank;
        var perm = n.Attr.Ints("perm") ?? [.. Enumerable.Range(0, rank).Reverse().Select(i => (long)i)];
        if (perm.Length != rank || perm.Distinct().Count() != rank || perm.Any(p => p < 0 || p >= rank))
        {
            throw n.Invalid($"perm [{string.Join(", ", perm)}] is not a permutation of the {rank} axes of {n.ShapeOf(n.X)}");
        }

        n.Emit("Permute", [n.X], new Attributes().Set("order", perm));
    }

    /// <summary>Gather of a computed value by constant indices (computed indices are NM0212: the output shape would be unknown).</summary>
    public static void Gather(OnnxNode n)
    {
        var indices = n.Const(1, "indices");
        n.Emit("Gather", [n.X], new Attributes()
            .Set("axis", n.Attr.Int("axis", 0))
            .Set("indices", n.Ints(1, "indices"))
            .Set("indices_shape", indices.Shape.Dims.ToArray()));
    }

    public static void Concat(OnnxNode n)
    {
        var inputs = Enumerable.Range(0, n.Proto.Input.Count).Where(n.Has).Select(n.Value).ToList();
        var rank = n.ShapeOf(inputs[0]).Rank;
        n.Emit("Concat", inputs, new Attributes().Set("axis", OnnxNode.Norm(n.Attr.Int("axis", 1), rank, clamp: false)));
    }

    /// <summary>The output shape of Unsqueeze, Squeeze, Flatten or Reshape on <paramref name="input"/>.</summary>
    public static Shape ReshapedShape(OnnxNode n, Shape input)
    {
        var dims = input.Dims.ToList();
        switch (n.OpType)
        {
            case "Unsqueeze":
                {
                    var given = n.Attr.Ints("axes") ?? n.Ints(1, "axes");
                    foreach (var axis in n.Axes(given, dims.Count + given.Length).Order())
                    {
                        dims.Insert(axis, 1);
                    }

                    return new Shape([.. dims]);
                }

            case "Squeeze":
                {
                    var axes = n.Attr.Ints("axes") ?? n.OptionalInts(1, "axes");
                    var remove = axes is null
                        ? Enumerable.Range(0, dims.Count).Where(i => dims[i] == 1).ToHashSet()
                        : n.Axes(axes, dims.Count).ToHashSet();
                    if (remove.Any(i => dims[i] != 1))
                    {
                        throw n.Invalid($"cannot squeeze axes of {input} whose size is not 1");
                    }

                    return new Shape([.. dims.Where((_, i) => !remove.Contains(i))]);
                }

            case "Flatten":
                {
                    // axis in [-r, r]; a negative one counts from the end, so -1 keeps the last axis apart.
                    var axis = (int)OnnxNode.Norm(n.Attr.Int("axis", 1), dims.Count, clamp: false);
                    if (axis < 0 || axis > dims.Count)
                    {
                        throw n.Invalid($"axis {n.Attr.Int("axis", 1)} is outside [-{dims.Count}, {dims.Count}] for {input}");
                    }

                    return new Shape(Checked.Product(dims.Take(axis).ToArray()), Checked.Product(dims.Skip(axis).ToArray()));
                }

            default:
                {
                    // Reshape of a constant (rare): 0 copies, -1 infers, by the rule of the IR's Reshape.
                    var reshape = new Node(n.Name, "Reshape", [n.Proto.Input[0]], [n.Proto.Output[0]],
                        new LayerOrigin(0, n.OpType, n.Name, n.Location), new Attributes().Set("shape", n.Ints(1, "shape")));
                    return OpRegistry.Get(reshape).InferShapes(new OpContext(reshape, [input]))[0];
                }
        }
    }
}
