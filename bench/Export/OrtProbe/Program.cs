// Opens one ONNX file in ONNX Runtime, runs it once on zeros at the input it declares, and prints
// the process's resident memory (VmRSS) and its peak so far (VmHWM) after each step.
// Usage: NeuralBuild.Bench.OrtProbe MODEL.onnx [all|extended|basic]
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

if (args.Length is < 1 or > 2)
{
    Console.Error.WriteLine("usage: NeuralBuild.Bench.OrtProbe MODEL.onnx [all|extended|basic]");
    return 2;
}

var level = (args.Length > 1 ? args[1] : "all") switch
{
    "all" => GraphOptimizationLevel.ORT_ENABLE_ALL,
    "extended" => GraphOptimizationLevel.ORT_ENABLE_EXTENDED,
    "basic" => GraphOptimizationLevel.ORT_ENABLE_BASIC,
    var other => throw new ArgumentException($"unknown level '{other}'"),
};

Report("started");
using var options = new SessionOptions { GraphOptimizationLevel = level };
using var session = new InferenceSession(args[0], options);
Report("session open");
var (name, input) = session.InputMetadata.First();
var shape = input.Dimensions.Select(d => d > 0 ? d : 1).ToArray();
var zeros = new DenseTensor<float>(new float[shape.Aggregate(1, (a, d) => a * d)], shape);
using (session.Run([NamedOnnxValue.CreateFromTensor(name, zeros)]))
{
    Report("after one run");
}

return 0;

static void Report(string step)
{
    var status = File.ReadAllLines("/proc/self/status");
    string Field(string key) => status.First(l => l.StartsWith(key + ":", StringComparison.Ordinal))[(key.Length + 1)..].Trim();
    Console.WriteLine($"{step,-14} VmRSS {Field("VmRSS"),12}  VmHWM {Field("VmHWM"),12}");
}
