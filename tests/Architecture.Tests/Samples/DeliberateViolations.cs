// A miniature engine that breaks each layering rule once, so LayeringTests can show every rule
// fails when broken. Nothing here is used at run time.
#pragma warning disable CA1812, CA1822, IDE0051
namespace NeuralBuild.Architecture.Tests.Samples.Ir
{
    internal sealed class Node
    {
        // Broken: the IR reaches into a format.
        public Formats.Onnx.OnnxNode? Source { get; set; }
    }
}

namespace NeuralBuild.Architecture.Tests.Samples.Ops
{
    internal sealed class Conv
    {
        public Ir.Node Infer(Ir.Node node) => node; // allowed: an operator works on the IR

        // Broken: the engine writes to the console.
        public void Trace() => System.Console.WriteLine("conv");
    }
}

namespace NeuralBuild.Architecture.Tests.Samples.Passes
{
    internal sealed class FoldBatchNorm
    {
        // Broken: a pass asks which format the model came from; the use is in a lambda.
        public Func<object, bool> IsDarknet { get; } = model => model is Formats.Darknet.DarknetLayer;
    }
}

namespace NeuralBuild.Architecture.Tests.Samples.Pipeline
{
    internal sealed class Optimizer
    {
        // Broken: the pipeline names a format's own type instead of going through the format list.
        public object Read() => new Formats.Darknet.DarknetLayer();

        public string List() => nameof(Formats); // allowed: what the formats share
    }
}

namespace NeuralBuild.Architecture.Tests.Samples.Formats.Onnx
{
    internal sealed class OnnxNode
    {
        public Ir.Node ToIr() => new(); // allowed: a format maps into the IR

        // Broken: one format uses another.
        public object Convert() => new Darknet.DarknetLayer();
    }
}

namespace NeuralBuild.Architecture.Tests.Samples.Formats.Darknet
{
    internal sealed class DarknetLayer
    {
        public string ModelList() => nameof(Formats); // allowed: a format may use what formats share
    }
}
