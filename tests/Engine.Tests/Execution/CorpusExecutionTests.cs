using NeuralBuild.Engine.Diagnostics;
using NeuralBuild.Engine.Execution;
using NeuralBuild.Engine.Formats;
using NeuralBuild.Engine.Ir;
using NeuralBuild.SyntheticWeights;

namespace NeuralBuild.Engine.Tests.Execution;

/// <summary>
/// Models of the shared AlexeyAB corpus that use the layers only AlexeyAB's fork has run through
/// the executor (in the AlexeyAB dialect, with generated weights) to finite outputs of the
/// inferred shapes. There is no AlexeyAB libdarknet here to compare values with (the kernel tests
/// check those formulas by hand), but none may crash or produce NaN. Fully convolutional models
/// run at 128x128 to keep the suite quick. (Run over all 87 cfgs, every feed-forward
/// model passes; generating their 10 GB of weights takes minutes, so the suite keeps one model per
/// feature.)
/// </summary>
[TestClass]
public sealed class CorpusExecutionTests
{
    public static IEnumerable<object[]> CorpusModels =>
    [
        ["efficientnet_b0.cfg"], // [scale_channels], swish, depthwise convolutions
        ["efficientnet-lite3.cfg"], // relu6
        ["enet-coco.cfg"], // [scale_channels] on a detector
        ["yolov4-sam-mish-csp-reorg-bfm.cfg"], // [sam], [reorg3d], mish
        ["Gaussian_yolov3_BDD.cfg"], // [Gaussian_yolo]
        ["resnet152_trident.cfg"], // share_index, dilation
        ["yolov4-tiny.cfg"], // route groups / group_id, scale_x_y
        ["yolov4-tiny_contrastive.cfg"], // [local_avgpool], [contrastive]
        ["yolov4-csp-s-mish.cfg"], // new_coords
        ["yolov7-tiny.cfg"], // new_coords, maxpool variety
        ["tiny-yolo-voc.cfg"], // [region] in AlexeyAB's box layout
        ["t1.test.cfg"], // [detection]
        ["cifar.cfg"], // [crop], [dropout]
        ["yolov3-tiny_xnor.cfg"], // xnor=1 binarised convolutions
    ];

    [TestMethod]
    [DynamicData(nameof(CorpusModels))]
    public void Corpus_model_runs_to_finite_outputs(string file)
    {
        var cfg = TestPaths.Corpus(file);
        Model declared;
        try
        {
            declared = ModelFormats.Read(cfg);
        }
        catch (NeuralException e) when (e.Diagnostic.Descriptor == DiagnosticCodes.CfgUnsupportedLayer)
        {
            // Recurrent layers: the reader refuses these models, there is nothing to execute.
            return;
        }

        var input = declared.Graph.Inputs.Values.Single();
        var shape = declared.Graph.Nodes.Any(n => n.OpType is "FullyConnected" or "LocallyConnected") || input.Rank != 4
            ? input
            : Shape.Nchw(1, input.C, Math.Min(input.H, 128), Math.Min(input.W, 128));
        var directory = Path.Combine(Path.GetTempPath(), $"neuralbuild-corpus-exec-{Environment.ProcessId}");
        Directory.CreateDirectory(directory);
        var weights = Path.Combine(directory, file + ".weights");
        try
        {
            DarknetSyntheticWeights.Write(ModelFormats.Read(cfg, new ModelReadOptions { InputShape = shape }), weights, new SyntheticWeightsOptions { Seed = 3 });
            var model = ModelFormats.Read(cfg, new ModelReadOptions { InputShape = shape, WeightsPath = weights });
            var x = new Tensor(shape);
            var random = new Random(1);
            for (var i = 0; i < x.Data.Length; i++)
            {
                x.Data[i] = (float)random.NextDouble();
            }

            var shapes = NeuralBuild.Engine.Analysis.ShapeInference.Run(model.Graph);
            var outputs = new ReferenceExecutor(model.Graph).Run(new Dictionary<string, Tensor> { [model.Graph.Inputs.Keys.Single()] = x });
            Assert.HasCount(model.Graph.Outputs.Count, outputs);
            foreach (var (name, tensor) in outputs)
            {
                Assert.AreEqual(shapes[name], tensor.Shape, name);
                var nonFinite = tensor.Data.Count(v => !float.IsFinite(v));
                Assert.AreEqual(0, nonFinite, $"{file}: output {name} has {nonFinite} non-finite values.");
            }
        }
        finally
        {
            File.Delete(weights);
        }
    }

    [TestMethod]
    public void Results_do_not_depend_on_the_number_of_threads()
    {
        // Work is split differently with one thread and with all, but every output element is
        // summed in the same order: the bits must agree.
        var cfg = TestPaths.Corpus("yolov4-tiny.cfg");
        var shape = Shape.Nchw(1, 3, 160, 160);
        var directory = Path.Combine(Path.GetTempPath(), $"neuralbuild-corpus-exec-{Environment.ProcessId}");
        Directory.CreateDirectory(directory);
        var weights = Path.Combine(directory, "threads.weights");
        try
        {
            DarknetSyntheticWeights.Write(ModelFormats.Read(cfg, new ModelReadOptions { InputShape = shape }), weights, new SyntheticWeightsOptions { Seed = 9 });
            var model = ModelFormats.Read(cfg, new ModelReadOptions { InputShape = shape, WeightsPath = weights });
            var x = Kernels.ConvKernelTests.RandomTensor(new Random(2), 1, 3, 160, 160);
            var inputs = new Dictionary<string, Tensor> { [model.Graph.Inputs.Keys.Single()] = x };
            var one = new ReferenceExecutor(model.Graph, new ExecutionOptions { MaxDegreeOfParallelism = 1 }).Run(inputs);
            var many = new ReferenceExecutor(model.Graph, new ExecutionOptions { MaxDegreeOfParallelism = 8 }).Run(inputs);
            foreach (var (name, tensor) in one)
            {
                CollectionAssert.AreEqual(tensor.Data, many[name].Data, name);
            }
        }
        finally
        {
            File.Delete(weights);
        }
    }
}
