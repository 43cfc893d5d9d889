using NeuralBuild.Engine.Evaluation;
using NeuralBuild.Engine.Execution;
using NeuralBuild.Engine.Ir;
using NeuralBuild.Engine.Ops;

namespace NeuralBuild.Engine.Pipeline;

/// <summary>
/// The box agreement (<see cref="BoxAgreement"/>) of each detection head of a lossy model: every SSD
/// DetectionOutput of the reference graph whose output is compared, or whose inputs all are (the ONNX
/// export leaves DetectionOutput out: its inputs are the export's outputs). In the second case the
/// head itself is run by the reference executor on the original's and on the export's values, so both
/// are decoded and suppressed alike and only the lossy part differs. Every Darknet [yolo] head whose
/// output is compared and whose anchors the model gave is decoded into boxes on both sides
/// (<see cref="YoloBoxes"/>), and so is every [Gaussian_yolo] head and every [region] head without a
/// class tree (pjreddie's planes and AlexeyAB's records).
/// </summary>
internal static class DetectionAgreement
{
    public static IEnumerable<BoxAgreement> Measure(Graph reference, IReadOnlyList<(string Value, string RuntimeOutput)> outputs,
        IReadOnlyDictionary<string, Tensor> expected, IReadOnlyDictionary<string, Tensor> actual, string runtimeName)
    {
        var runtimeOutput = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (value, output) in outputs)
        {
            runtimeOutput.TryAdd(value, output);
        }

        if (reference.Inputs.Count == 1 && reference.Inputs.Values.Single() is { Rank: 4 } input)
        {
            foreach (var head in reference.Nodes)
            {
                if (GridDecoder(head, input) is not { } boxes || !runtimeOutput.TryGetValue(head.Outputs[0], out var direct))
                {
                    continue;
                }

                var value = head.Outputs[0];

                yield return BoxAgreement.Measure($"{runtimeName} detections '{value}'", boxes(expected[value]), boxes(actual[direct]));
            }
        }

        foreach (var head in reference.Nodes.Where(n => n.OpType == "DetectionOutput"))
        {
            var value = head.Outputs[0];
            Tensor original, other;
            if (runtimeOutput.TryGetValue(value, out var direct))
            {
                (original, other) = (expected[value], actual[direct]);
            }
            else if (head.Inputs.All(runtimeOutput.ContainsKey))
            {
                original = Run(head, input => expected[input]);
                other = Run(head, input => actual[runtimeOutput[input]]);
            }
            else
            {
                continue;
            }

            yield return BoxAgreement.Measure($"{runtimeName} detections '{value}'", DetectedBox.FromDetectionRows(original.Data), DetectedBox.FromDetectionRows(other.Data));
        }
    }

    /// <summary>
    /// How to decode a Darknet [yolo], [Gaussian_yolo] or [region] head into boxes;
    /// null for any other node, or a head whose anchors the model did not give.
    /// </summary>
    private static Func<Tensor, IReadOnlyList<DetectedBox>>? GridDecoder(Node head, Shape input)
    {
        switch (head.OpType)
        {
            case "DarknetYolo" when head.AttributesAs<DarknetYoloAttributes>() is var yolo && yolo.AnchorSizes.Length == 2 * yolo.Anchors:
                return t => YoloBoxes.Decode(t.Data, (int)t.Shape[0], (int)t.Shape[2], (int)t.Shape[3], yolo, input.W, input.H);
            case "DarknetGaussianYolo" when head.AttributesAs<DarknetYoloAttributes>() is var gaussian && gaussian.AnchorSizes.Length == 2 * gaussian.Anchors:
                return t => YoloBoxes.DecodeGaussian(t.Data, (int)t.Shape[0], (int)t.Shape[2], (int)t.Shape[3], gaussian, input.W, input.H);
            case "DarknetRegion" when head.AttributesAs<DarknetRegionAttributes>() is var region && !region.Hierarchical
                && region.Coords == 4 && region.AnchorSizes.Length == 2 * region.Num:
                return t => YoloBoxes.DecodeRegion(t.Data, (int)t.Shape[0], (int)t.Shape[2], (int)t.Shape[3], region);
            default:
                return null;
        }
    }

    /// <summary>The head alone, on the given values of its inputs.</summary>
    private static Tensor Run(Node head, Func<string, Tensor> input)
    {
        var graph = new Graph();
        var feeds = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        foreach (var name in head.Inputs.Distinct(StringComparer.Ordinal))
        {
            feeds[name] = input(name);
            graph.Inputs[name] = feeds[name].Shape;
        }

        graph.Nodes.Add(head);
        graph.Outputs.Add(head.Outputs[0]);
        return new ReferenceExecutor(graph, new ExecutionOptions { FuseEpilogues = false }).Run(feeds)[head.Outputs[0]];
    }
}
