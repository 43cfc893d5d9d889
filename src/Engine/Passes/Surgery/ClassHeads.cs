using NeuralBuild.Engine.Ir;
using NeuralBuild.Engine.Ops;

namespace NeuralBuild.Engine.Passes.Surgery;

/// <summary>
/// One head that decodes classes, as <see cref="KeepClasses"/> cuts it: the layers that produce its
/// class channels (each in <c>Blocks</c> blocks of <c>Prefix</c> box values then the classes), the
/// values after them that keep the class layout, and the nodes that state the class count.
/// </summary>
internal sealed class ClassHead
{
    public required Node Head { get; init; }

    public required long Classes { get; init; }

    public List<(Node Node, long Blocks, long Prefix)> Producers { get; } = [];

    /// <summary>Producers of per-class boxes (SSD without <c>share_location</c>): in each of <c>Blocks</c> blocks, 4 rows per class.</summary>
    public List<(Node Node, long Blocks)> BoxProducers { get; } = [];

    /// <summary>Values after <see cref="BoxProducers"/> laid out (…, class, 4).</summary>
    public List<string> BoxValues { get; } = [];

    /// <summary>Class that is always kept (SSD's background).</summary>
    public long? Background { get; init; }

    /// <summary>Why this head cannot be cut; null when it can.</summary>
    public string? Refusal { get; set; }

    /// <summary>A constant bias added after the producer (an ONNX MatMul's Add): its entries are the classes too.</summary>
    public Node? Bias { get; init; }

    /// <summary>The head's output has its producer's channels (a [yolo] head's per-element logistic).</summary>
    public bool SameLayoutAsProducer { get; init; }

    /// <summary>Values laid out with the classes last (SSD's permuted, flattened and concatenated scores), before any softmax.</summary>
    public List<string> ClassLastValues { get; } = [];

    /// <summary>Values with the classes on axis 1 after the producer (a classifier's activation, pooling, flatten), before any softmax.</summary>
    public List<string> ChannelValues { get; } = [];

    /// <summary>Nodes whose attributes state the class count.</summary>
    public List<Node> Restated { get; } = [];

    /// <summary>The softmax over the classes, if any: its output is renormalised.</summary>
    public Node? Softmax { get; set; }

    /// <summary>Writes the new class count into <see cref="Restated"/>.</summary>
    public void Restate(long classes)
    {
        foreach (var node in Restated)
        {
            switch (node.OpType)
            {
                case "DarknetYolo" or "DarknetGaussianYolo" or "DarknetRegion":
                    node.Attributes.Set("classes", classes);
                    break;
                case "DetectionOutput":
                    node.Attributes.Set("num_classes", classes);
                    break;
                case "Reshape":
                    var spec = node.AttributesAs<ReshapeAttributes>().Shape.ToArray();
                    spec[^1] = classes;
                    node.Attributes.Set("shape", spec);
                    break;
            }
        }
    }
}

/// <summary>Finds the class heads of a graph: Darknet's detection heads, SSD's DetectionOutput, else classifier outputs.</summary>
internal static class ClassHeads
{
    public static List<ClassHead> Find(GraphEditor graph)
    {
        var heads = new List<ClassHead>();
        foreach (var node in graph.Graph.Nodes)
        {
            switch (node.OpType)
            {
                case "DarknetYolo" or "DarknetGaussianYolo":
                {
                    var attributes = node.AttributesAs<DarknetYoloAttributes>();
                    heads.Add(DarknetHead(graph, node, attributes.Anchors, node.OpType == "DarknetYolo" ? 5 : 9, attributes.Classes, sameLayout: true));
                    break;
                }

                case "DarknetRegion":
                {
                    var attributes = node.AttributesAs<DarknetRegionAttributes>();
                    var head = DarknetHead(graph, node, attributes.Num, attributes.Coords + 1, attributes.Classes, sameLayout: !attributes.Softmax && !attributes.BoxesLayout);
                    head.Softmax = attributes.Softmax ? node : null;
                    heads.Add(head);
                    break;
                }

                case "DetectionOutput":
                    heads.Add(SsdHead(graph, node));
                    break;
            }
        }

        return heads.Count > 0 ? heads : ClassifierHeads(graph);
    }

    private static ClassHead DarknetHead(GraphEditor graph, Node head, long anchors, long prefix, long classes, bool sameLayout)
    {
        var result = new ClassHead { Head = head, Classes = classes, SameLayoutAsProducer = sameLayout };
        result.Restated.Add(head);
        var producer = graph.Producer(head.Inputs[0]);
        if (producer is null || !ChannelFlow.IsProducer(graph, producer) || producer.AttributesAs<ConvAttributes>().Group != 1)
        {
            result.Refusal = $"its input '{head.Inputs[0]}' is not made by a convolution with its own constant weights and no groups";
        }
        else if (graph.ConsumerCount(head.Inputs[0]) != 1)
        {
            result.Refusal = $"its input '{head.Inputs[0]}' is also read elsewhere, where all classes are expected";
        }
        else
        {
            result.Producers.Add((producer, anchors, prefix));
        }

        return result;
    }

    /// <summary>
    /// SSD: from DetectionOutput's scores back through Flatten, Softmax, Reshape, Concat, Permute and
    /// Identity to the convolutions that make them; each of those has priors·C rows.
    /// </summary>
    private static ClassHead SsdHead(GraphEditor graph, Node detection)
    {
        var attributes = detection.AttributesAs<DetectionOutputAttributes>();
        var classes = attributes.NumClasses;
        var head = new ClassHead { Head = detection, Classes = classes, Background = attributes.BackgroundLabelId >= 0 ? attributes.BackgroundLabelId : null };
        head.Restated.Add(detection);
        if (!attributes.ShareLocation)
        {
            head.Refusal = PerClassBoxes(graph, head, detection.Inputs[0], classes);
            if (head.Refusal is not null)
            {
                return head;
            }
        }

        // Walking back from the scores, a value is before the softmax once the walk has passed it.
        var pending = new Stack<(string Value, bool BeforeSoftmax)>();
        var classLast = new List<(string Value, bool BeforeSoftmax)>();
        pending.Push((detection.Inputs[1], false));
        while (pending.Count > 0 && head.Refusal is null)
        {
            var (value, beforeSoftmax) = pending.Pop();
            var producer = graph.Producer(value);
            if (graph.ConsumerCount(value) != 1)
            {
                head.Refusal = $"the scores '{value}' are also read elsewhere";
            }
            else if (producer is null)
            {
                head.Refusal = $"the scores '{value}' are not computed by a layer";
            }
            else if (producer.OpType == "Conv")
            {
                if (!ChannelFlow.IsProducer(graph, producer) || graph.Shapes[value][1] % classes != 0)
                {
                    head.Refusal = $"'{producer.Name}' has groups, shared or missing weights, or channels that are not a whole number of {classes}-class blocks";
                }
                else
                {
                    head.Producers.Add((producer, graph.Shapes[value][1] / classes, 0));
                }
            }
            else if (producer.OpType is "Flatten" or "Softmax" or "Reshape" or "Concat" or "Permute" or "Identity")
            {
                if (producer.OpType == "Reshape")
                {
                    if (producer.AttributesAs<ReshapeAttributes>().Shape is not [.., var last] || last != classes)
                    {
                        head.Refusal = $"the Reshape '{producer.Name}' does not name the {classes} classes as its last dimension";
                        break;
                    }

                    head.Restated.Add(producer);
                }

                if (producer.OpType == "Softmax")
                {
                    head.Softmax = producer;
                }

                classLast.Add((value, beforeSoftmax));
                foreach (var input in producer.Inputs.Where(i => !graph.Graph.Initializers.ContainsKey(i)))
                {
                    pending.Push((input, beforeSoftmax || producer.OpType == "Softmax"));
                }
            }
            else
            {
                head.Refusal = $"the scores pass through '{producer.Name}' ({producer.OpType}), which the class subset does not follow";
            }
        }

        head.Producers.Sort((a, b) => graph.Graph.Nodes.IndexOf(a.Node).CompareTo(graph.Graph.Nodes.IndexOf(b.Node)));
        head.ClassLastValues.AddRange(classLast.Where(v => v.BeforeSoftmax || head.Softmax is null).Select(v => v.Value));
        return head;
    }

    /// <summary>
    /// SSD without <c>share_location</c>: from DetectionOutput's boxes back through Flatten, Concat,
    /// Permute and Identity to the convolutions that make them, each with priors·C·4 rows (per prior,
    /// 4 per class). Returns why they cannot be cut, or null.
    /// </summary>
    private static string? PerClassBoxes(GraphEditor graph, ClassHead head, string boxes, long classes)
    {
        var pending = new Stack<string>();
        pending.Push(boxes);
        while (pending.Count > 0)
        {
            var value = pending.Pop();
            var producer = graph.Producer(value);
            if (graph.ConsumerCount(value) != 1 || producer is null)
            {
                return $"the per-class boxes '{value}' are read elsewhere or not computed by a layer";
            }

            if (producer.OpType == "Conv")
            {
                if (!ChannelFlow.IsProducer(graph, producer) || graph.Shapes[value][1] % (classes * 4) != 0)
                {
                    return $"'{producer.Name}' has groups, shared or missing weights, or channels that are not a whole number of {classes}-class boxes";
                }

                head.BoxProducers.Add((producer, graph.Shapes[value][1] / (classes * 4)));
            }
            else if (producer.OpType is "Flatten" or "Concat" or "Permute" or "Identity")
            {
                head.BoxValues.Add(value);
                foreach (var input in producer.Inputs.Where(i => !graph.Graph.Initializers.ContainsKey(i)))
                {
                    pending.Push(input);
                }
            }
            else
            {
                return $"the per-class boxes pass through '{producer.Name}' ({producer.OpType}), which the class subset does not follow";
            }
        }

        return null;
    }

    /// <summary>
    /// A classifier: each model output made by a fully connected layer, a convolution, or a matrix
    /// product by constant weights (ONNX's MatMul, with or without a constant bias Add after it),
    /// through nodes that keep the class axis (activations, global pooling, flatten, identity, a
    /// reshape that only drops 1-sized axes, a softmax).
    /// </summary>
    private static List<ClassHead> ClassifierHeads(GraphEditor graph)
    {
        var heads = new List<ClassHead>();
        foreach (var output in graph.Graph.Outputs.Distinct(StringComparer.Ordinal))
        {
            var values = new List<string>();
            Node? softmax = null;
            var value = output;
            var producer = graph.Producer(value);
            string? refusal = null;
            var restated = new List<Node>();
            while (producer is not null && producer.OpType is "Activation" or "GlobalAveragePool" or "GlobalMaxPool" or "Flatten" or "Identity" or "Softmax" or "Reshape"
                && graph.ConsumerCount(producer.Inputs[0]) == 1)
            {
                if (producer.OpType == "Reshape")
                {
                    refusal ??= ReshapeRefusal(graph, producer);
                    if (StatesClassCount(producer))
                    {
                        restated.Add(producer);
                    }
                }

                if (producer.OpType == "Softmax")
                {
                    softmax = producer;
                    values.Clear();
                }
                else
                {
                    values.Add(value);
                }

                value = producer.Inputs[0];
                producer = graph.Producer(value);
            }

            Node? bias = null;
            if (refusal is null && producer is not null && BiasOfMatMul(graph, producer) is { } matMul)
            {
                // MatMul → Add(bias): the Add's output keeps the classes on axis 1, like the values after it.
                bias = producer;
                values.Add(value);
                value = matMul.Outputs[0];
                producer = matMul;
            }

            if (producer is null || producer.OpType is not ("FullyConnected" or "Conv" or "MatMul"))
            {
                continue;
            }

            var classes = graph.Shapes[value][1];
            var head = new ClassHead { Head = producer, Classes = classes, Softmax = softmax, Bias = bias };
            head.Restated.AddRange(restated);
            if (refusal is not null)
            {
                head.Refusal = refusal;
            }
            else if (producer.OpType == "MatMul" ? !IsConstantMatMul(graph, producer) : !ChannelFlow.IsProducer(graph, producer) || (producer.OpType == "Conv" && producer.AttributesAs<ConvAttributes>().Group != 1))
            {
                head.Refusal = $"'{producer.Name}' has groups or shared, missing or non-constant weights";
            }
            else
            {
                head.Producers.Add((producer, 1, 0));
                head.ChannelValues.AddRange(values);
            }

            heads.Add(head);
        }

        return heads;
    }

    /// <summary>
    /// Why a Reshape between the classes and the output stops the cut: it must keep the batch and class
    /// axes and drop only 1-sized ones; one that states the class count states it last (it is restated).
    /// </summary>
    private static string? ReshapeRefusal(GraphEditor graph, Node reshape)
    {
        var input = graph.Shapes[reshape.Inputs[0]];
        var output = graph.Shapes[reshape.Outputs[0]];
        var keepsAxes = input.Rank >= 2 && output.Rank >= 2 && input[0] == output[0] && input[1] == output[1]
            && input.Dims.Skip(2).All(d => d == 1) && output.Dims.Skip(2).All(d => d == 1);
        return !keepsAxes ? $"the Reshape '{reshape.Name}' moves the classes off axis 1 ({input} -> {output})"
            : StatesClassCount(reshape) && reshape.AttributesAs<ReshapeAttributes>().Shape.Length != 2 ? $"the Reshape '{reshape.Name}' states the class count on an axis other than its last"
            : null;
    }

    /// <summary>A Reshape keeping the class axis whose target shape names its size (not 0 or -1).</summary>
    private static bool StatesClassCount(Node reshape) =>
        reshape.AttributesAs<ReshapeAttributes>().Shape is { Length: >= 2 } spec && spec[1] > 0;

    /// <summary>The MatMul a constant bias Add (<c>MatMul(x, W) + b</c>, b of the class count) adds to; null when <paramref name="add"/> is not one.</summary>
    private static Node? BiasOfMatMul(GraphEditor graph, Node add)
    {
        if (add.OpType != "Arithmetic" || add.AttributesAs<ArithmeticAttributes>().Operation != ArithmeticOperation.Add || add.Inputs.Count != 2)
        {
            return null;
        }

        var constant = add.Inputs.FirstOrDefault(graph.Graph.Initializers.ContainsKey);
        var other = add.Inputs.FirstOrDefault(i => !graph.Graph.Initializers.ContainsKey(i));
        if (constant is null || other is null || graph.Producer(other) is not { OpType: "MatMul" } matMul || graph.ConsumerCount(other) != 1)
        {
            return null;
        }

        var b = graph.Graph.Initializers[constant];
        var classes = graph.Shapes[other];
        return b.Data is not null && graph.ReadingNodeCount(constant) == 1 && classes.Rank == 2 && b.Shape.Dims[^1] == classes[1] && b.Shape.ElementCount == classes[1]
            ? matMul : null;
    }

    /// <summary>A MatMul of a matrix by its own constant (K, C) weights: its output channel c is column c of the weights.</summary>
    private static bool IsConstantMatMul(GraphEditor graph, Node matMul) =>
        matMul.Inputs.Count == 2 && graph.Shapes[matMul.Inputs[0]].Rank == 2
        && graph.Graph.Initializers.TryGetValue(matMul.Inputs[1], out var w) && w.Data is not null && w.Shape.Rank == 2
        && graph.ReadingNodeCount(matMul.Inputs[1]) == 1;
}
