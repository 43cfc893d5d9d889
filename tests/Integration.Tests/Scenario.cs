using System.Globalization;
using Google.Protobuf;
using NeuralBuild.Engine.Formats.Onnx.Proto;
using NeuralBuild.Engine.Tests.Formats.Onnx;
using NeuralBuild.Engine.Formats;
using NeuralBuild.SyntheticWeights;

namespace NeuralBuild.Integration.Tests;

/// <summary>A user's project in a temporary folder, consuming NeuralBuild from the local feed.</summary>
internal sealed class Scenario
{
    /// <summary>
    /// 32x32x3 input: conv 3x3x3->8 at line 7 (221,184 MACC), maxpool at line 15, conv 3x3x8->16
    /// at line 19 (294,912 MACC). 516,096 MACC in total.
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

    /// <summary>
    /// 16x16x3 input. conv1 (line 4) 3x3, 3->8, no bias: 16*16*8*27 = 55,296 MACC, followed by
    /// BatchNorm, Scale and ReLU in place; 2x2/2 max pooling; conv2 (line 9) 1x1, 8->4: 8*8*4*8 =
    /// 2,048 MACC. 57,344 MACC in total.
    /// </summary>
    public const string TinyPrototxt = """
        name: "net"
        input: "data"
        input_shape { dim: 1 dim: 3 dim: 16 dim: 16 }
        layer { name: "conv1" type: "Convolution" bottom: "data" top: "conv1" convolution_param { num_output: 8 kernel_size: 3 pad: 1 bias_term: false } }
        layer { name: "bn1" type: "BatchNorm" bottom: "conv1" top: "conv1" }
        layer { name: "scale1" type: "Scale" bottom: "conv1" top: "conv1" scale_param { bias_term: true } }
        layer { name: "relu1" type: "ReLU" bottom: "conv1" top: "conv1" }
        layer { name: "pool1" type: "Pooling" bottom: "conv1" top: "pool1" pooling_param { pool: MAX kernel_size: 2 stride: 2 } }
        layer { name: "conv2" type: "Convolution" bottom: "pool1" top: "conv2" convolution_param { num_output: 4 kernel_size: 1 } }

        """;

    public const string ReportingProgram = """
        using App;
        foreach (var (name, macc, open) in new (string, long, Func<Stream>)[] { MODELS })
        {
            using var stream = open();
            using var copy = new MemoryStream();
            stream.CopyTo(copy);
            Console.WriteLine($"{name} macc={macc} definitionBytes={copy.Length}");
        }
        """;

    public Scenario(PackedFeed feed, string name)
    {
        Feed = feed;
        Directory = Path.Combine(feed.Root, name);
        System.IO.Directory.CreateDirectory(Directory);
        File.WriteAllText(Path.Combine(Directory, "nuget.config"), $"""
            <?xml version="1.0" encoding="utf-8"?>
            <configuration>
              <packageSources>
                <clear />
                <add key="neuralbuild-local" value="{feed.Feed}" />
              </packageSources>
            </configuration>
            """);
    }

    public PackedFeed Feed { get; }

    /// <summary>
    /// Lets the scenario restore packages of this machine's NuGet packages folder (a folder feed):
    /// ONNX Runtime, which the repository's own restore put there, for apps that run an export.
    /// </summary>
    public void UseMachinePackages()
    {
        var machine = Environment.GetEnvironmentVariable("NUGET_PACKAGES") is { Length: > 0 } set
            ? set
            : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");
        var config = Path.Combine(Directory, "nuget.config");
        File.WriteAllText(config, File.ReadAllText(config).Replace("  </packageSources>", $"    <add key=\"machine\" value=\"{machine}\" />\n  </packageSources>", StringComparison.Ordinal));
    }

    /// <summary>Lets the scenario restore from nuget.org too: a targeting pack of another .NET version.</summary>
    public void UseNuGetOrg()
    {
        var config = Path.Combine(Directory, "nuget.config");
        File.WriteAllText(config, File.ReadAllText(config).Replace("  </packageSources>", "    <add key=\"nuget.org\" value=\"https://api.nuget.org/v3/index.json\" />\n  </packageSources>", StringComparison.Ordinal));
    }

    public string Directory { get; }

    public string Path_(params string[] parts) => Path.Combine([Directory, .. parts]);

    /// <summary>A model's outputs: one folder per configuration, shared by the target frameworks.</summary>
    public string Neural(params string[] parts) => Path.Combine([Directory, "obj", "Debug", "neural", .. parts]);

    /// <summary>The accessor and what else is per target framework.</summary>
    public string NeuralPerFramework(params string[] parts) => Path.Combine([Directory, "obj", "Debug", "net10.0", "neural", .. parts]);

    /// <summary>Writes a console app project with the given NeuralModel items (and other XML) under <paramref name="folder"/>.</summary>
    public string Project(string items, string program, string folder = "", string name = "app", string properties = "")
    {
        var dir = Path.Combine(Directory, folder);
        System.IO.Directory.CreateDirectory(dir);
        var csproj = Path.Combine(dir, name + ".csproj");
        File.WriteAllText(csproj, $"""
            <Project Sdk="Microsoft.NET.Sdk">
              <PropertyGroup>
                <OutputType>Exe</OutputType>
                <TargetFramework>net10.0</TargetFramework>
                <Nullable>enable</Nullable>
                <ImplicitUsings>enable</ImplicitUsings>
                <RootNamespace>App</RootNamespace>
                {properties}
              </PropertyGroup>
              <ItemGroup>
                <PackageReference Include="NeuralBuild" Version="{Feed.Version}" />
                {items}
              </ItemGroup>
            </Project>
            """);
        File.WriteAllText(Path.Combine(dir, "Program.cs"), program);
        return csproj;
    }

    /// <summary>Writes a cfg or prototxt (and its synthetic .weights / .caffemodel unless told not to) at <paramref name="relative"/>.</summary>
    public string Model(string relative, string text, bool weights = true, ulong seed = 3)
    {
        var cfg = Path_(relative);
        System.IO.Directory.CreateDirectory(Path.GetDirectoryName(cfg)!);
        File.WriteAllText(cfg, text);
        if (weights && cfg.EndsWith(".prototxt", StringComparison.Ordinal))
        {
            CaffeSyntheticWeights.Write(ModelFormats.Read(cfg), Path.ChangeExtension(cfg, ".caffemodel"), new SyntheticWeightsOptions { Seed = seed });
        }
        else if (weights)
        {
            DarknetSyntheticWeights.Write(ModelFormats.Read(cfg), Path.ChangeExtension(cfg, ".weights"), new SyntheticWeightsOptions { Seed = seed });
        }

        return cfg;
    }

    /// <summary>
    /// <see cref="TinyCfg"/> with weights whose first BatchNorm (the [convolutional] at line 7) has
    /// channel <paramref name="channel"/>'s running variance set to <paramref name="variance"/>; every
    /// other variance is generated away from zero. Darknet's layout after the header: 8 biases,
    /// 8 scales, 8 means, 8 variances, 216 weights, then the second conv's 16 biases and 1,152 weights.
    /// </summary>
    public string TinyCfgWithVariance(string relative, int channel, float variance)
    {
        var cfg = Model(relative, TinyCfg, weights: false);
        var weights = Path.ChangeExtension(cfg, ".weights");
        DarknetSyntheticWeights.Write(ModelFormats.Read(cfg), weights, new SyntheticWeightsOptions { Seed = 3, NearZeroVarianceFraction = 0 });
        var bytes = File.ReadAllBytes(weights);
        var header = bytes.Length - (((4 * 8) + 216 + 16 + 1152) * 4);
        System.Buffers.Binary.BinaryPrimitives.WriteSingleLittleEndian(bytes.AsSpan(header + ((24 + channel) * 4)), variance);
        File.WriteAllBytes(weights, bytes);
        return cfg;
    }

    /// <summary>
    /// The ONNX twin of <see cref="TinyPrototxt"/>, written with the generated protobuf classes and
    /// seeded values: 1x3x16x16 input, node 0 Conv 3x3 3->8 pad 1 without bias (55,296 MACC),
    /// BatchNormalization, Relu, 2x2/2 MaxPool, Conv 1x1 8->4 with bias (2,048 MACC): 57,344 MACC.
    /// </summary>
    /// <remarks>With <paramref name="externalData"/>, every initializer is stored in NAME.bin beside the model.</remarks>
    public string OnnxModel(string relative, ulong seed = 3, bool externalData = false)
    {
        var path = Path_(relative);
        System.IO.Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        var model = TinyOnnx.Model(
            13,
            [
                TinyOnnx.Node("Conv", "conv1", ["data", "conv1.weight"], ["c1"], TinyOnnx.Ints("kernel_shape", 3, 3), TinyOnnx.Ints("pads", 1, 1, 1, 1)),
                TinyOnnx.Node("BatchNormalization", "bn1", ["c1", "bn1.scale", "bn1.bias", "bn1.mean", "bn1.var"], ["b1"]),
                TinyOnnx.Node("Relu", "relu1", ["b1"], ["r1"]),
                TinyOnnx.Node("MaxPool", "pool1", ["r1"], ["p1"], TinyOnnx.Ints("kernel_shape", 2, 2), TinyOnnx.Ints("strides", 2, 2)),
                TinyOnnx.Node("Conv", "conv2", ["p1", "conv2.weight", "conv2.bias"], ["conv2"], TinyOnnx.Ints("kernel_shape", 1, 1)),
            ],
            [
                TinyOnnx.Random("conv1.weight", seed, -0.5, 0.5, 8, 3, 3, 3),
                TinyOnnx.Random("bn1.scale", seed + 1, 0.5, 1.5, 8),
                TinyOnnx.Random("bn1.bias", seed + 2, -0.5, 0.5, 8),
                TinyOnnx.Random("bn1.mean", seed + 3, -0.5, 0.5, 8),
                TinyOnnx.Random("bn1.var", seed + 4, 0.5, 1.5, 8),
                TinyOnnx.Random("conv2.weight", seed + 5, -0.5, 0.5, 4, 8, 1, 1),
                TinyOnnx.Random("conv2.bias", seed + 6, -0.5, 0.5, 4),
            ],
            input: "data",
            inputDims: [1, 3, 16, 16],
            outputs: "conv2");
        if (externalData)
        {
            using var data = File.Create(path + ".bin");
            foreach (var tensor in model.Graph.Initializer)
            {
                tensor.ExternalData.Add(new StringStringEntryProto { Key = "location", Value = Path.GetFileName(path) + ".bin" });
                tensor.ExternalData.Add(new StringStringEntryProto { Key = "offset", Value = data.Position.ToString(CultureInfo.InvariantCulture) });
                tensor.ExternalData.Add(new StringStringEntryProto { Key = "length", Value = tensor.RawData.Length.ToString(CultureInfo.InvariantCulture) });
                tensor.DataLocation = TensorProto.Types.DataLocation.External;
                tensor.RawData.WriteTo(data);
                tensor.ClearRawData();
            }
        }

        File.WriteAllBytes(path, model.ToByteArray());
        return path;
    }

    /// <summary><c>dotnet build</c> at minimal verbosity with a detailed log beside it.</summary>
    public Build Build(string extra = "", string? project = null, IDictionary<string, string>? environment = null)
    {
        var log = Path.Combine(Directory, $"build-{++_builds}.log");
        var result = DotNet.Run(Directory, $"build {project} -tl:off -nologo -v:m \"-flp:v=d;logfile={log}\" {extra}", Feed, environment);
        return new Build(result.ExitCode, result.Output, File.Exists(log) ? File.ReadAllText(log) : string.Empty);
    }

    public DotNet.Result Run(string dll, string arguments = "") => DotNet.Run(Directory, $"\"{dll}\" {arguments}", Feed);

    public DotNet.Result Dotnet(string arguments) => DotNet.Run(Directory, arguments, Feed);

    private int _builds;

    /// <summary>Marks a file as changed now (never in the future: that would make every later build look out of date).</summary>
    public static void Touch(string path) => File.SetLastWriteTimeUtc(path, DateTime.UtcNow);

    public static string Exact(long value) => value.ToString("N0", CultureInfo.InvariantCulture);
}

internal sealed record Build(int ExitCode, string Output, string DetailedLog)
{
    public bool Succeeded => ExitCode == 0;

    public IEnumerable<string> Lines => Output.Split('\n').Select(l => l.TrimEnd('\r').Trim());

    /// <summary>Each error once (the console logger repeats them in its closing summary).</summary>
    public IEnumerable<string> Errors => Lines.Where(l => l.Contains(": error ", StringComparison.Ordinal)).Distinct();

    public IEnumerable<string> Warnings => Lines.Where(l => l.Contains(": warning ", StringComparison.Ordinal)).Distinct();

    public bool OptimizeSkipped => DetailedLog.Contains("Skipping target \"_NeuralOptimize\" because all output files are up-to-date", StringComparison.Ordinal);

    public bool OptimizeRan => DetailedLog.Contains("Building target \"_NeuralOptimize\" completely", StringComparison.Ordinal)
        || DetailedLog.Contains("Building target \"_NeuralOptimize\" partially", StringComparison.Ordinal);

    public override string ToString() => $"exit {ExitCode}\n{Output}";
}
