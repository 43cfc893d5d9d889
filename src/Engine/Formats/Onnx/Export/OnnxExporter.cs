using System.Globalization;
using Google.Protobuf;
using NeuralBuild.Engine.Analysis;
using NeuralBuild.Engine.Diagnostics;
using NeuralBuild.Engine.Formats.Onnx.Proto;
using NeuralBuild.Engine.Ir;

namespace NeuralBuild.Engine.Formats.Onnx.Export;

/// <summary>
/// Writes any IR model (read from Darknet, Caffe or ONNX, usually folded) as one standard ONNX file:
/// every node lowered by its entry of <see cref="OnnxExportMap"/> to ONNX operators of the asked opset,
/// value names from the source layers, each node's <c>doc_string</c> naming the source file and line,
/// the model's input shape (the batch symbolic when asked) and the outputs with their inferred shapes
/// (docs/onnx-export.md). A node without an exact lowering is refused with a code; when any is,
/// nothing is written. Caffe's DetectionOutput has no ONNX operator: its inputs become the outputs
/// (NM2010). The file is written atomically; the source model is not changed.
/// </summary>
public static class OnnxExporter
{
    /// <summary>The IR version written: the one onnx 1.12 (opsets up to 17) writes.</summary>
    private const long IrVersion = 8;

    public static OnnxExportResult Export(Model model, string onnxPath, OnnxExportOptions options)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(onnxPath);
        ArgumentNullException.ThrowIfNull(options);
        if (options.Opset is < OnnxExportOptions.MinimumOpset or > OnnxExportOptions.MaximumOpset)
        {
            throw DiagnosticCodes.ExportOpsetUnsupported.Exception(SourceLocation.None,
                string.Create(CultureInfo.InvariantCulture,
                    $"opset {options.Opset} is not supported; ONNX export writes opsets {OnnxExportOptions.MinimumOpset} to {OnnxExportOptions.MaximumOpset}."));
        }

        var source = model.Graph;
        if (source.Initializers.Values.FirstOrDefault(i => i.Data is null) is { } missing)
        {
            throw DiagnosticCodes.ExportNoWeights.Exception(new SourceLocation(model.DefinitionPath),
                $"weight '{missing.Name}' has no values: the model was opened without its weights; give the weights file to export it.");
        }

        var shapes = ShapeInference.Run(source);
        var graph = new OnnxExportGraph(source, shapes, options.Opset, options.SymbolicBatch, options.Quantize) { ActivationRanges = options.ActivationRanges };
        var warnings = new List<Diagnostic>();
        var refusals = new List<OnnxExportRefusal>();
        var layers = new List<(LayerOrigin Origin, List<string> IrNodes, List<(string, string)> OnnxNodes)>();
        var outputs = PlanOutputs(source, refusals, warnings);

        // The graph inputs are named first, so that they keep their names.
        foreach (var input in source.Inputs.Keys)
        {
            _ = graph.ValueName(input);
        }

        foreach (var node in source.Nodes)
        {
            if (node.OpType == DetectionOutputOp)
            {
                continue;
            }

            var context = new OnnxLoweringContext(graph, node);
            try
            {
                var lowering = OnnxExportMap.Find(node.OpType)
                    ?? throw context.Refuse(DiagnosticCodes.ExportOperatorUnsupported, $"the IR operator {node.OpType} has no ONNX lowering.");
                lowering(context);
            }
            catch (OnnxExportRefusedException refused)
            {
                refusals.Add(new OnnxExportRefusal(node.Origin, node.Name, node.OpType, refused.Diagnostic));
            }

            if (layers.Count == 0 || layers[^1].Origin.Index != node.Origin.Index)
            {
                layers.Add((node.Origin, [], []));
            }

            layers[^1].IrNodes.Add(node.Name);
            layers[^1].OnnxNodes.AddRange(context.Emitted);
        }

        var layerExports = layers.Select(l => new OnnxLayerExport(l.Origin, l.IrNodes, l.OnnxNodes)).ToList();
        var inputNames = source.Inputs.Keys.Select(i => new OnnxExportValue(i, graph.ValueName(i))).ToList();
        var outputNames = outputs.Select(o => new OnnxExportValue(o, graph.ValueName(o))).ToList();
        if (refusals.Count > 0)
        {
            return new OnnxExportResult(options.Opset, null, null, layerExports, refusals, warnings, inputNames, outputNames) { Quantized = graph.Quantized, QuantizedActivations = graph.LossyActivations() };
        }

        var batch = source.Inputs.Values.First()[0];
        if (options.SymbolicBatch && outputs.Any(o => shapes[o].Rank == 0 || shapes[o][0] != batch))
        {
            warnings.Add(DiagnosticCodes.ExportFixedBatch.At(new SourceLocation(model.DefinitionPath),
                "an output's first axis is not the input's batch, so it keeps its fixed size; the export runs only at the model's batch."));
        }

        var dataPath = Save(model, onnxPath, options, graph, outputs, warnings);
        return new OnnxExportResult(options.Opset, onnxPath, dataPath, layerExports, refusals, warnings, inputNames, outputNames) { Quantized = graph.Quantized, QuantizedActivations = graph.LossyActivations() };
    }

    private const string DetectionOutputOp = "DetectionOutput";

    /// <summary>The outputs of the ONNX graph: the model's, with each DetectionOutput replaced by its inputs (NM2010; NM0307 when a layer reads its result).</summary>
    private static List<string> PlanOutputs(Graph source, List<OnnxExportRefusal> refusals, List<Diagnostic> warnings)
    {
        var consumers = source.BuildConsumers();
        var outputs = new List<string>();
        var producers = source.BuildProducers();
        foreach (var output in source.Outputs)
        {
            if (!producers.TryGetValue(output, out var node) || node.OpType != DetectionOutputOp)
            {
                outputs.Add(output);
                continue;
            }

            var inputs = node.Inputs.Where(i => i.Length > 0).ToList();
            outputs.AddRange(inputs.Where(i => !outputs.Contains(i)));
            warnings.Add(DiagnosticCodes.ExportDetectionOutputDropped.At(node.Origin.Location,
                $"layer {node.Origin.Index} [{node.Origin.Kind}] '{node.Origin.Name}': ONNX has no DetectionOutput operator; the exported model ends at its inputs ({string.Join(", ", inputs)}), whose boxes, scores and priors the application decodes and filters with non-maximum suppression."));
        }

        foreach (var node in source.Nodes.Where(n => n.OpType == DetectionOutputOp))
        {
            if (node.Outputs.Any(consumers.ContainsKey))
            {
                var diagnostic = DiagnosticCodes.ExportDetectionOutputRead.At(node.Origin.Location,
                    $"layer {node.Origin.Index} [{node.Origin.Kind}] '{node.Origin.Name}': its detections are read by another layer; ONNX has no DetectionOutput operator, so the export can only end at its inputs.");
                refusals.Add(new OnnxExportRefusal(node.Origin, node.Name, node.OpType, diagnostic));
            }
        }

        return outputs;
    }

    /// <summary>Builds the model message and writes it (and its data file) atomically; returns the data file's path, if any.</summary>
    private static string? Save(Model model, string onnxPath, OnnxExportOptions options, OnnxExportGraph graph, List<string> outputs, List<Diagnostic> warnings)
    {
        var source = model.Graph;
        var batch = source.Inputs.Values.First()[0];
        var proto = new GraphProto
        {
            Name = OnnxExportGraph.Sanitise(Path.GetFileNameWithoutExtension(model.DefinitionPath)),
            DocString = $"Exported by NeuralBuild from {Path.GetFileName(model.DefinitionPath)} ({model.Format}).",
        };
        proto.Node.AddRange(graph.Nodes);
        foreach (var (name, shape) in source.Inputs)
        {
            proto.Input.Add(graph.ValueInfo(graph.ValueName(name), shape, batch));
        }

        foreach (var output in outputs)
        {
            proto.Output.Add(graph.ValueInfo(graph.ValueName(output), graph.Shapes[output], batch));
        }

        var weightBytes = OnnxExportTensors.ByteSize(graph.Weights);
        var external = options.ExternalData ?? weightBytes > OnnxExportTensors.MessageLimit;
        var dataFileName = Path.GetFileName(onnxPath) + ".data";
        var dataPath = Path.Combine(Path.GetDirectoryName(Path.GetFullPath(onnxPath)) ?? ".", dataFileName);
        Action<string>? writeData = null;
        if (external && graph.Quantized.Count > 0)
        {
            throw DiagnosticCodes.ExportQuantizedExternalData.Exception(new SourceLocation(model.DefinitionPath),
                string.Create(CultureInfo.InvariantCulture,
                    $"quantized weights are written inside the model file, and these ({weightBytes:N0} bytes) {(options.ExternalData is null ? "would pass protobuf's 2 GB limit" : "were asked for in an external data file (external-data=true)")}; export without external-data=true, or quantize a smaller model."));
        }

        if (external)
        {
            writeData = OnnxExportTensors.External(graph.Weights, dataFileName);
            if (options.ExternalData is null)
            {
                warnings.Add(DiagnosticCodes.ExportExternalData.At(new SourceLocation(model.DefinitionPath),
                    string.Create(CultureInfo.InvariantCulture,
                        $"the weights ({weightBytes:N0} bytes) would make the file pass protobuf's 2 GB limit, so they are written to {dataFileName} beside it; keep the two files together.")));
            }
        }
        else
        {
            OnnxExportTensors.Inline(graph.Weights, onnxPath);
        }

        proto.Initializer.AddRange(graph.Weights.Select(w => w.Tensor));
        proto.Initializer.AddRange(graph.Constants);
        var message = new ModelProto
        {
            IrVersion = IrVersion,
            ProducerName = "NeuralBuild",
            ProducerVersion = typeof(OnnxExporter).Assembly.GetName().Version?.ToString() ?? string.Empty,
            Graph = proto,
        };
        message.OpsetImport.Add(new OperatorSetIdProto { Domain = string.Empty, Version = options.Opset });

        void WriteModel(string temp)
        {
            using var stream = new FileStream(temp, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 20);
            message.WriteTo(stream);
        }

        if (writeData is not null)
        {
            AtomicFiles.Write((dataPath, writeData), (onnxPath, WriteModel));
            return dataPath;
        }

        AtomicFiles.Write((onnxPath, WriteModel));
        return null;
    }
}
