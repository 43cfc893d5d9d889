using System.Runtime.CompilerServices;
using NeuralBuild.Engine.Execution;
using NeuralBuild.Engine.Ir;

namespace EmbeddedApp;

/// <summary>The one place the sample runs a model: the engine's reference executor.</summary>
internal static class Inference
{
    // One executor per model: it loads and packs the weights on its first run and keeps them.
    private static readonly ConditionalWeakTable<Model, ReferenceExecutor> s_executors = new();

    /// <summary>Runs <paramref name="model"/> on one input and returns every graph output by name.</summary>
    public static IReadOnlyDictionary<string, (Shape Shape, float[] Data)> Run(Model model, string inputName, Shape shape, float[] data)
    {
        var executor = s_executors.GetValue(model, m => new ReferenceExecutor(m.Graph));
        var outputs = executor.Run(new Dictionary<string, Tensor> { [inputName] = new(shape, data) });
        return outputs.ToDictionary(p => p.Key, p => (p.Value.Shape, p.Value.Data));
    }

    /// <summary>
    /// The strongest detections of one [yolo] head: per anchor the channels are x, y, w, h,
    /// objectness, then one score per class (x, y, objectness and classes already through the
    /// logistic, as darknet's forward leaves them). Score = objectness x best class probability.
    /// </summary>
    public static IEnumerable<(float Score, int Class, int Anchor, int Row, int Column)> TopDetections(Shape shape, float[] data, int classes, int count)
    {
        var (channels, height, width) = ((int)shape.C, (int)shape.H, (int)shape.W);
        var plane = height * width;
        var anchors = channels / (classes + 5);
        var found = new List<(float, int, int, int, int)>();
        for (var a = 0; a < anchors; a++)
        {
            var baseChannel = a * (classes + 5);
            for (var cell = 0; cell < plane; cell++)
            {
                var objectness = data[((baseChannel + 4) * plane) + cell];
                var (best, bestClass) = (0f, 0);
                for (var c = 0; c < classes; c++)
                {
                    var p = data[((baseChannel + 5 + c) * plane) + cell];
                    if (p > best)
                    {
                        (best, bestClass) = (p, c);
                    }
                }

                found.Add((objectness * best, bestClass, a, cell / width, cell % width));
            }
        }

        return found.OrderByDescending(d => d.Item1).Take(count);
    }
}
