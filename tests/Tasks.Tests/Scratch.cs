using Microsoft.Build.Framework;
using Microsoft.Build.Utilities;
using NeuralBuild.Engine.Formats;
using NeuralBuild.SyntheticWeights;

namespace NeuralBuild.Tasks.Tests;

/// <summary>A temporary project folder with a tiny Darknet model and synthetic weights.</summary>
internal sealed class Scratch : IDisposable
{
    /// <summary>
    /// 32x32x3 input. conv 3x3x3->8 (line 7): 3*3*3*32*32*8 = 221,184 MACC; maxpool 2/2 (line 15);
    /// conv 3x3x8->16 on 16x16 (line 19): 3*3*8*16*16*16 = 294,912 MACC. Total 516,096.
    /// </summary>
    public const string TinyCfg = """
        [net]
        width=32
        height=32
        channels=3
        batch=1

        [convolutional]
        batch_normalize=1
        filters=8
        size=3
        stride=1
        pad=1
        activation=leaky

        [maxpool]
        size=2
        stride=2

        [convolutional]
        filters=16
        size=3
        stride=1
        pad=1
        activation=leaky

        """;

    public Scratch()
    {
        Directory = Path.Combine(Path.GetTempPath(), "nb-tasks-" + Guid.NewGuid().ToString("N")[..12]);
        System.IO.Directory.CreateDirectory(Directory);
        ProjectFile = Path.Combine(Directory, "app.csproj");
        File.WriteAllText(ProjectFile, "<Project />");
    }

    public string Directory { get; }

    public string ProjectFile { get; }

    public string Intermediate => Path.Combine(Directory, "obj", "neural");

    public string Path_(string relative) => Path.Combine(Directory, relative);

    /// <summary>Writes the cfg and (unless told not to) its synthetic weights next to it.</summary>
    public string Model(string name = "tiny.cfg", string? text = null, bool weights = true)
    {
        var cfg = Path_(name);
        System.IO.Directory.CreateDirectory(Path.GetDirectoryName(cfg)!);
        File.WriteAllText(cfg, text ?? TinyCfg);
        if (weights)
        {
            DarknetSyntheticWeights.Write(ModelFormats.Read(cfg), Path.ChangeExtension(cfg, ".weights"), new SyntheticWeightsOptions { Seed = 7 });
        }

        return cfg;
    }

    /// <summary>
    /// Gives channel <paramref name="channel"/> of the first BatchNorm of <see cref="TinyCfg"/> the running
    /// variance <paramref name="variance"/>, in weights generated without near-zero variances. Darknet's
    /// layout after the header: 8 biases, 8 scales, 8 means, then the 8 variances.
    /// </summary>
    public void SetFirstBatchNormVariance(string cfg, int channel, float variance)
    {
        var weights = Path.ChangeExtension(cfg, ".weights");
        DarknetSyntheticWeights.Write(ModelFormats.Read(cfg), weights, new SyntheticWeightsOptions { Seed = 7, NearZeroVarianceFraction = 0 });
        var bytes = File.ReadAllBytes(weights);
        // Layer 0: 8 + 8 + 8 + 8 + 8*3*3*3 floats; layer 2: 16 + 16*8*3*3.
        const int Floats = (4 * 8) + 216 + 16 + 1152;
        var header = bytes.Length - (Floats * 4);
        System.Buffers.Binary.BinaryPrimitives.WriteSingleLittleEndian(bytes.AsSpan(header + ((24 + channel) * 4)), variance);
        File.WriteAllBytes(weights, bytes);
    }

    /// <summary>Resolves one NeuralModel item of this project (the input every other task gets), asserting it resolves.</summary>
    public ITaskItem ResolveOne(string include, params (string Key, string Value)[] metadata)
    {
        var item = new TaskItem(Path.Combine(Directory, include));
        foreach (var (k, v) in metadata)
        {
            item.SetMetadata(k, v);
        }

        var engine = new FakeBuildEngine();
        var task = new NeuralResolveModels { BuildEngine = engine, Models = [item], ProjectFile = ProjectFile, IntermediateDirectory = Intermediate };
        Assert.IsTrue(task.Execute(), engine.Describe());
        return task.ResolvedModels.Single();
    }

    public void Dispose()
    {
        try
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
