using NeuralBuild.Engine.Execution;
using NeuralBuild.Engine.Formats;
using NeuralBuild.Engine.Ir;
using NeuralBuild.Engine.Passes.Surgery;
using NeuralBuild.Engine.Pipeline;
using NeuralBuild.SyntheticWeights;

namespace NeuralBuild.Engine.Tests.Passes.Surgery;

/// <summary>What the surgery tests share: corpus models with synthetic weights, one edit run, seeded inputs and runs of one value.</summary>
internal static class SurgeryModels
{
    /// <summary>The edit alone (no folds), verified against the source, written to <c>out</c>.</summary>
    public static OptimizeResult Edit(DarknetFixture fixture, string definition, ModelSurgery surgery) =>
        ModelOptimizer.Optimize(new OptimizeRequest { DefinitionPath = definition, Fold = false, Surgery = surgery, OutputDirectory = Path.Combine(fixture.Folder, "out") });

    /// <summary>A copy of a corpus prototxt with a seeded synthetic caffemodel beside it.</summary>
    public static string CaffeCorpus(DarknetFixture fixture, string file, ulong seed)
    {
        var prototxt = Path.Combine(fixture.Folder, file);
        File.Copy(Path.Combine(TestPaths.CaffeCorpus, file), prototxt);
        CaffeSyntheticWeights.Write(ModelFormats.Read(prototxt), Path.ChangeExtension(prototxt, ".caffemodel"), new SyntheticWeightsOptions { Seed = seed });
        return prototxt;
    }

    /// <summary>A copy of a corpus cfg with seeded synthetic weights beside it.</summary>
    public static string DarknetCorpus(DarknetFixture fixture, string file, ulong seed)
    {
        var cfg = Path.Combine(fixture.Folder, file);
        File.Copy(TestPaths.Corpus(file), cfg);
        DarknetSyntheticWeights.Write(ModelFormats.Read(cfg), Path.ChangeExtension(cfg, ".weights"), new SyntheticWeightsOptions { Seed = seed });
        return cfg;
    }

    /// <summary>The source model and the edited one, both read from their files.</summary>
    public static (Model Before, Model After) ReadBoth(string definition, OptimizeResult result)
    {
        var format = ModelFormats.ForPath(definition);
        return (ModelFormats.Read(definition, new ModelReadOptions { WeightsPath = format.DefaultWeightsPath(definition) }),
            ModelFormats.Read(result.OptimizedDefinitionPath, new ModelReadOptions { WeightsPath = result.OptimizedWeightsPath }));
    }

    public static Tensor SeededInput(Shape shape, int seed)
    {
        var random = new Random(seed);
        var data = new float[shape.ElementCount];
        for (var i = 0; i < data.Length; i++)
        {
            data[i] = (float)((random.NextDouble() * 2) - 1);
        }

        return new Tensor(shape, data);
    }

    public static float[] Run(Model model, Tensor input, string value) =>
        new ReferenceExecutor(model.Graph).Run(new Dictionary<string, Tensor> { [model.Graph.Inputs.Keys.Single()] = input }, [value])[value].Data;
}
