using NeuralBuild.Engine.Diagnostics;
using NeuralBuild.Engine.Formats.Caffe.Proto;
using NeuralBuild.Engine.Ir;
using NeuralBuild.Engine.Passes;

namespace NeuralBuild.Engine.Formats.Caffe;

/// <summary>Caffe: a .prototxt network definition (protobuf text) and a .caffemodel (binary NetParameter).</summary>
public sealed class CaffeFormat : IModelFormat
{
    public string Name => "caffe";

    public string DisplayName => "Caffe";

    public IReadOnlyList<FormatOptionInfo> Options { get; } = [];

    public IReadOnlyList<string> Extensions { get; } = [".prototxt"];

    public string DefaultWeightsPath(string definitionPath)
    {
        ArgumentNullException.ThrowIfNull(definitionPath);

        // net.deploy.prototxt → net.caffemodel would also be common, but the documented default is
        // the same base name: net.deploy.caffemodel.
        return Path.ChangeExtension(definitionPath, ".caffemodel");
    }

    /// <summary>Caffe and ONNX files say everything about themselves: no format options.</summary>
    public ModelReadOptions WithFormatOptions(ModelReadOptions options, IReadOnlyDictionary<string, string> formatOptions, SourceLocation where)
    {
        FormatOptions.RequireKnown(this, formatOptions, [], where);
        return options;
    }

    public Model Read(string definitionPath, ModelReadOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (!File.Exists(definitionPath))
        {
            throw DiagnosticCodes.FileNotFound.Exception(new SourceLocation(definitionPath), $"Caffe prototxt '{definitionPath}' does not exist.");
        }

        return Read(definitionPath, File.ReadAllText(definitionPath), options);
    }

    /// <summary>Reads prototxt text (with <paramref name="definitionPath"/> for diagnostics) and the weights the options name.</summary>
    public Model Read(string definitionPath, string prototxt, ModelReadOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var net = PrototxtReader.Parse<NetParameter>(definitionPath, prototxt, out var map);
        var document = CaffeGraphBuilder.Build(definitionPath, net, map, options.InputShape, out var graph);
        if (options.WeightsPath is { } weights)
        {
            document.Weights = CaffemodelReader.Attach(weights, document, graph);
            document.WeightsPath = weights;
        }

        return new Model(Name, definitionPath, options.WeightsPath, graph)
        {
            SourceDocument = document,
            LayerCount = document.Layers.Count,
        };
    }

    public WriterContract WriterContract => CaffeWriterContract.Instance;

    public void Write(Model model, string definitionPath, string weightsPath) => CaffeWriter.Write(model, definitionPath, weightsPath);

    public void WriteParameters(Model model, string definitionPath, string weightsPath) => CaffeParameterWriter.Write(model, definitionPath, weightsPath);
}
