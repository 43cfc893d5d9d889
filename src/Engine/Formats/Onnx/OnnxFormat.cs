using NeuralBuild.Engine.Diagnostics;
using NeuralBuild.Engine.Formats.Onnx.Proto;
using NeuralBuild.Engine.Ir;
using NeuralBuild.Engine.Passes;

namespace NeuralBuild.Engine.Formats.Onnx;

/// <summary>ONNX: one binary ModelProto (.onnx) holding graph and weights (or naming external data files beside it).</summary>
public sealed class OnnxFormat : IModelFormat
{
    public string Name => "onnx";

    public string DisplayName => "ONNX";

    public IReadOnlyList<FormatOptionInfo> Options { get; } = [];

    public IReadOnlyList<string> Extensions { get; } = [".onnx"];

    /// <summary>The weights are inside the model file.</summary>
    public string DefaultWeightsPath(string definitionPath)
    {
        ArgumentNullException.ThrowIfNull(definitionPath);
        return definitionPath;
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
            throw DiagnosticCodes.FileNotFound.Exception(new SourceLocation(definitionPath), $"ONNX model '{definitionPath}' does not exist.");
        }

        ModelProto? proto;
        var length = new FileInfo(definitionPath).Length;
        if (length > int.MaxValue)
        {
            // Protobuf messages are limited to 2 GB; larger models keep their weights as external data.
            throw DiagnosticCodes.OnnxMalformed.Exception(new SourceLocation(definitionPath),
                $"'{Path.GetFileName(definitionPath)}' has {length:N0} bytes, over the 2 GB protobuf limit; ONNX models this large keep their weights as external data.");
        }

        // Large weights stay in the file (OnnxLazyParsing): the parsed model holds the graph, and each
        // big tensor is read when asked for. A file the scan cannot follow is parsed whole from the
        // stream, so the tensors are the one copy in memory (not the file's bytes as well).
        // Google.Protobuf reads a length-delimited field longer than its buffer in chunks and fails
        // at the end of the file: a length a truncated or damaged record declares never becomes an
        // allocation of that size.
        string Damaged(string why) => $"'{Path.GetFileName(definitionPath)}' is not a readable ONNX model: {why} (file of {length:N0} bytes). The download or copy was cut short, or the file is not ONNX.";
        proto = OnnxLazyParsing.TryParse(definitionPath, skeleton => ProtobufParsing.Parse(() => ModelProto.Parser.ParseFrom(skeleton), DiagnosticCodes.OnnxMalformed, definitionPath, Damaged));
        if (proto is null)
        {
            using var stream = new FileStream(definitionPath, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20, FileOptions.SequentialScan);
            proto = ProtobufParsing.Parse(() => ModelProto.Parser.ParseFrom(stream), DiagnosticCodes.OnnxMalformed, definitionPath, Damaged);
        }

        return Read(definitionPath, proto, options);
    }

    /// <summary>Reads an already parsed model (<paramref name="definitionPath"/> locates external data and names the file in diagnostics).</summary>
    public Model Read(string definitionPath, ModelProto proto, ModelReadOptions options)
    {
        ArgumentNullException.ThrowIfNull(proto);
        ArgumentNullException.ThrowIfNull(options);
        var document = OnnxGraphBuilder.Build(definitionPath, proto, options.InputShape, out var graph);
        return new Model(Name, definitionPath, definitionPath, graph)
        {
            SourceDocument = document,
            LayerCount = proto.Graph.Node.Count,
        };
    }

    public WriterContract WriterContract => OnnxWriterContract.Instance;

    public IModelExporter? Exporter => Export.OnnxModelExporter.Instance;

    /// <summary>
    /// Writes the model read from an ONNX file, after passes, as one .onnx file (weights inside, or in
    /// <c>NAME.onnx.data</c> beside it when the source kept weights as external data); see
    /// <see cref="OnnxWriter"/>. ONNX has no separate weights file: <paramref name="weightsPath"/> is
    /// <see cref="DefaultWeightsPath"/> of the definition, the definition itself.
    /// </summary>
    public void Write(Model model, string definitionPath, string weightsPath) => Write(model, definitionPath, weightsPath, replaceInPlace: false);

    /// <summary>As <see cref="Write(Model, string, string)"/>, with each initializer whose values were replaced written under its own name, in its place.</summary>
    public void WriteParameters(Model model, string definitionPath, string weightsPath) => Write(model, definitionPath, weightsPath, replaceInPlace: true);

    private static void Write(Model model, string definitionPath, string weightsPath, bool replaceInPlace)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(definitionPath);
        if (!string.Equals(Path.GetFullPath(weightsPath), Path.GetFullPath(definitionPath), StringComparison.Ordinal))
        {
            throw new ArgumentException($"ONNX keeps its weights in the model file; the weights path '{weightsPath}' must be the definition path '{definitionPath}'.", nameof(weightsPath));
        }

        OnnxWriter.Write(model, definitionPath, replaceInPlace);
    }
}
