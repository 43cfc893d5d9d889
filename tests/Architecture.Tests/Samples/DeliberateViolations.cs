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

    internal sealed class Attributes
    {
        public long Int(string name) => name.Length;

        public Attributes Set(string name, long value) => this;
    }
}

namespace NeuralBuild.Architecture.Tests.Samples.Ops
{
    internal sealed class Conv
    {
        public Ir.Node Infer(Ir.Node node) => node; // allowed: an operator works on the IR

        public long Group(Ir.Attributes attributes) => attributes.Int("group"); // allowed: the operator parses its attributes

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

        // Broken: a pass reads an operator's attribute by name instead of the operator's typed record.
        public bool IsGrouped(Ir.Attributes attributes) => attributes.Int("group") > 1;
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

        public Ir.Attributes Attributes() => new Ir.Attributes().Set("group", 2); // allowed: a reader writes attributes

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
