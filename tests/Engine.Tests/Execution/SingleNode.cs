using NeuralBuild.Engine.Diagnostics;
using NeuralBuild.Engine.Execution;
using NeuralBuild.Engine.Ir;

namespace NeuralBuild.Engine.Tests.Execution;

/// <summary>Runs one node through the <see cref="ReferenceExecutor"/>: the way kernel tests reach a kernel.</summary>
internal static class SingleNode
{
    /// <summary>
    /// Runs <paramref name="opType"/> on graph input "x" (input 0) and <paramref name="others"/>
    /// as constant inputs 1.. (null: an omitted optional input).
    /// </summary>
    public static Tensor Run(string opType, Tensor x, Action<Attributes>? attributes = null, params Tensor?[] others) =>
        Run(opType, x, attributes, threads: null, others);

    public static Tensor Run(string opType, Tensor x, Action<Attributes>? attributes, int? threads, params Tensor?[] others)
    {
        var graph = new Graph();
        graph.Inputs["x"] = x.Shape;
        var inputs = new List<string> { "x" };
        for (var i = 0; i < others.Length; i++)
        {
            if (others[i] is not { } constant)
            {
                inputs.Add(string.Empty);
                continue;
            }

            var name = $"c{i + 1}";
            graph.Initializers[name] = new Initializer(name, constant.Shape, new ArrayData(constant.Data));
            inputs.Add(name);
        }

        var node = new Node("node", opType, inputs, ["y"], new LayerOrigin(0, opType, "0", SourceLocation.None));
        attributes?.Invoke(node.Attributes);
        graph.Nodes.Add(node);
        graph.Outputs.Add("y");
        var executor = new ReferenceExecutor(graph, new ExecutionOptions { MaxDegreeOfParallelism = threads });
        return executor.Run(new Dictionary<string, Tensor> { ["x"] = x })["y"];
    }

    /// <summary>A tensor from its dimensions and values.</summary>
    public static Tensor T(long[] dims, params float[] values) => new(new Shape(dims), values);

    /// <summary>A tensor of shape <paramref name="dims"/> holding 0, 1, 2, … in row-major order.</summary>
    public static Tensor Iota(params long[] dims)
    {
        var shape = new Shape(dims);
        var values = new float[shape.ElementCount];
        for (var i = 0; i < values.Length; i++)
        {
            values[i] = i;
        }

        return new Tensor(shape, values);
    }

    public static void AssertValues(float[] expected, Tensor actual, float tolerance = 1e-6f)
    {
        Assert.HasCount(expected.Length, actual.Data, $"shape {actual.Shape}");
        for (var i = 0; i < expected.Length; i++)
        {
            Assert.AreEqual(expected[i], actual.Data[i], tolerance, $"element {i} of {actual.Shape}");
        }
    }
}
