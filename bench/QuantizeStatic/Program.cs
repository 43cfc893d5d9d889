using System.Diagnostics;
using System.Globalization;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

// Times ONNX Runtime sessions of the given files on one seeded input of their declared shape:
// 1 intra-op thread (the machine is shared), graph optimisations at their default (all), 10 warm-up
// runs, then RUNS timed runs; prints one Markdown row per file: median, mean, min, file size.
// Usage: NeuralBuild.Bench.QuantizeStatic RUNS FILE...
var runs = int.Parse(args[0], CultureInfo.InvariantCulture);
Console.WriteLine("| file | bytes | median [ms] | mean [ms] | min [ms] |");
Console.WriteLine("|---|---:|---:|---:|---:|");
foreach (var path in args.Skip(1))
{
    using var options = new SessionOptions { IntraOpNumThreads = 1, InterOpNumThreads = 1 };
    using var session = new InferenceSession(path, options);
    var (name, meta) = session.InputMetadata.Single();
    var dims = meta.Dimensions.Select(d => d > 0 ? d : 1).ToArray();
    var random = new Random(5);
    var data = new float[dims.Aggregate(1, (a, b) => a * b)];
    for (var i = 0; i < data.Length; i++)
    {
        data[i] = (float)((random.NextDouble() * 2) - 1);
    }

    var input = new List<NamedOnnxValue> { NamedOnnxValue.CreateFromTensor(name, new DenseTensor<float>(data, dims)) };
    for (var i = 0; i < 10; i++)
    {
        using var warm = session.Run(input);
    }

    var times = new double[runs];
    for (var i = 0; i < runs; i++)
    {
        var clock = Stopwatch.StartNew();
        using var result = session.Run(input);
        times[i] = clock.Elapsed.TotalMilliseconds;
    }

    Array.Sort(times);
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
        $"| {Path.GetFileName(Path.GetDirectoryName(path))}/{Path.GetFileName(path)} | {new FileInfo(path).Length:N0} | {times[runs / 2]:0.00} | {times.Average():0.00} | {times[0]:0.00} |"));
}
