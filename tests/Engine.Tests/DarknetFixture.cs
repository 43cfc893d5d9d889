using System.Buffers.Binary;
using NeuralBuild.Engine.Formats;
using NeuralBuild.Engine.Formats.Darknet;
using NeuralBuild.Engine.Ir;

namespace NeuralBuild.Engine.Tests;

/// <summary>Writes tiny hand-made Darknet models (cfg text + exact float values) into a temp folder.</summary>
internal sealed class DarknetFixture : IDisposable
{
    public DarknetFixture() => Directory.CreateDirectory(Folder);

    public string Folder { get; } = Path.Combine(Path.GetTempPath(), "nb-tests", Guid.NewGuid().ToString("N"));

    public string Cfg { get; private set; } = string.Empty;

    public string Weights { get; private set; } = string.Empty;

    /// <summary>Writes <paramref name="cfgText"/> and a 0.2.5 weights file holding <paramref name="floats"/> in order.</summary>
    public Model Create(string cfgText, float[] floats, DarknetDialect dialect = DarknetDialect.AlexeyAB, string name = "model")
    {
        Cfg = Path.Combine(Folder, name + ".cfg");
        Weights = Path.Combine(Folder, name + ".weights");
        File.WriteAllText(Cfg, cfgText);
        WriteWeights(Weights, floats);
        return ModelFormats.Read(Cfg, new ModelReadOptions { WeightsPath = Weights, DarknetDialect = dialect });
    }

    public static void WriteWeights(string path, float[] floats, int major = 0, int minor = 2, int revision = 5, ulong seen = 12345)
    {
        var header = new DarknetWeightsHeader(major, minor, revision, seen);
        var bytes = new byte[header.ByteLength + (floats.Length * 4)];
        header.Write(bytes);
        for (var i = 0; i < floats.Length; i++)
        {
            BinaryPrimitives.WriteSingleLittleEndian(bytes.AsSpan(header.ByteLength + (i * 4)), floats[i]);
        }

        File.WriteAllBytes(path, bytes);
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(Folder, recursive: true);
        }
        catch (IOException)
        {
            // A leftover temp folder is harmless.
        }
    }
}
