using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using NeuralBuild.Engine.Analysis;
using NeuralBuild.Engine.Diagnostics;

namespace NeuralBuild.Engine.Budgets;

/// <summary>One source layer's share of the budgeted metrics, with where it is written.</summary>
public sealed record LayerMetrics(int Index, string Kind, SourceLocation Location, long Macc, long Params, long WeightsBytes, long ActivationBytes, long MemoryAccess)
{
    /// <summary>The layer's name in its file (ONNX node name, Caffe layer name; empty for Darknet).</summary>
    public string Name { get; init; } = string.Empty;

    /// <summary>The layer's output shape (<c>1x16x416x416</c>).</summary>
    public string OutputShape { get; init; } = string.Empty;

    /// <summary>The layers this one reads (<see cref="LayerReport.InputLayers"/>; empty: only the model's input): the report draws the graph from them.</summary>
    public IReadOnlyList<int> Inputs { get; init; } = [];

    /// <summary>In a quantized export, the output error this layer's stored weights and rounded activations (int8-static) cause alone (relative to the output's magnitude); null: exact.</summary>
    public double? OutputError { get; init; }

    /// <summary>This layer's contribution to <paramref name="metric"/> (for peak activation: its output bytes).</summary>
    public long Value(BudgetMetric metric) => metric.Key switch
    {
        "macc" => Macc,
        "params" => Params,
        "weightsBytes" => WeightsBytes,
        "peakActivationBytes" => ActivationBytes,
        "memoryAccess" => MemoryAccess,
        _ => throw new ArgumentOutOfRangeException(nameof(metric), metric.Key, "Unknown metric."),
    };

    /// <summary><c>layer 13 [convolutional] line 113</c>; where the file has no lines (ONNX), <c>layer 0 [Conv] 'conv1'</c>.</summary>
    public string Describe() => Ir.LayerOrigin.Describe(Index, Kind, Name, Location);
}

/// <summary>One output of a lossy (quantized) export against the original: max and mean error relative to the output's magnitude, top-1 agreement for a classifier.</summary>
public sealed record OutputError(string Output, double MaxRelativeError, double MeanRelativeError, double? Top1Agreement);

/// <summary>What a lossy export costs in accuracy, measured when it was written (<c>MaxOutputError</c> is checked against it).</summary>
public sealed record ModelAccuracy(string Encoding, IReadOnlyList<OutputError> Outputs)
{
    /// <summary>What the errors were measured on: the user's evaluation inputs, or the seeded one.</summary>
    public string MeasuredOn { get; init; } = Evaluation.EvaluationInputs.SyntheticDescription;

    /// <summary>The worst output's max relative error.</summary>
    public OutputError Worst => Outputs.MaxBy(o => o.MaxRelativeError)!;
}

/// <summary>
/// The figures budgets and baselines are checked against: the optimised model's totals and its
/// per-layer breakdown, plus what produced them (input hashes, optimiser settings). The MSBuild
/// optimise step writes this as JSON (<see cref="ToJson"/>); the always-running check step and the
/// accessor generator read it back (<see cref="Load"/>), so a skipped optimisation still gets checked.
/// </summary>
public sealed record ModelMetrics
{
    public const int SchemaVersion = 1;

    /// <summary>The model definition as the user wrote it (where diagnostics point).</summary>
    public required string ModelPath { get; init; }

    /// <summary>Totals by JSON key: params, macc, flops, memoryAccess, memoryAccessIdeal, activationBytes, weightsBytes, peakActivationBytes.</summary>
    public required IReadOnlyDictionary<string, long> Totals { get; init; }

    public int PeakLayerIndex { get; init; }

    public required IReadOnlyList<LayerMetrics> Layers { get; init; }

    /// <summary>SHA-256 of the inputs (hex), keyed "definition" and "weights".</summary>
    public IReadOnlyDictionary<string, string> InputSha256 { get; init; } = new Dictionary<string, string>();

    /// <summary>Optimiser settings that produced the figures (dialect, verify, inputShape).</summary>
    public IReadOnlyDictionary<string, string> Optimizer { get; init; } = new Dictionary<string, string>();

    /// <summary>
    /// The engine's warnings about the model (e.g. NM2003) from the optimisation that produced these
    /// figures: stored here so that every build reports them again, also when the optimisation is
    /// up to date and skipped, as compilers replay their warnings.
    /// </summary>
    public IReadOnlyList<Diagnostic> Warnings { get; init; } = [];

    /// <summary>The measured output error of a lossy export (the figures are then the export's); null: the model computes what the original computes.</summary>
    public ModelAccuracy? Accuracy { get; init; }

    public long Value(BudgetMetric metric) => Totals.TryGetValue(metric.Key, out var v) ? v : 0;

    /// <summary>
    /// Metrics of <paramref name="report"/> (the optimised model). Diagnostics must point at the
    /// model the user wrote: a layer located in another file (e.g. a rewritten copy) takes the
    /// location of the same layer in <paramref name="before"/>, or the model file without a line.
    /// </summary>
    public static ModelMetrics FromReport(ModelReport report, string modelPath, IReadOnlyDictionary<string, string>? inputSha256 = null, IReadOnlyDictionary<string, string>? optimizer = null, ModelReport? before = null)
    {
        var t = report.Totals;
        var full = Path.GetFullPath(modelPath);
        SourceLocation Where(LayerReport l)
        {
            if (!string.IsNullOrEmpty(l.Location.File) && Path.GetFullPath(l.Location.File) == full)
            {
                return l.Location;
            }

            var original = before?.Layers.FirstOrDefault(b => b.Index == l.Index && b.Kind == l.Kind);
            return original is not null && !string.IsNullOrEmpty(original.Location.File) && Path.GetFullPath(original.Location.File) == full
                ? original.Location
                : new SourceLocation(modelPath);
        }

        return new ModelMetrics
        {
            ModelPath = modelPath,
            Totals = new SortedDictionary<string, long>(StringComparer.Ordinal)
            {
                ["params"] = t.Params,
                ["macc"] = t.Macc,
                ["flops"] = t.Flops,
                ["memoryAccess"] = t.MemoryAccess,
                ["memoryAccessIdeal"] = t.MemoryAccessIdeal,
                ["activationBytes"] = t.ActivationBytes,
                ["weightsBytes"] = t.WeightsBytes,
                ["peakActivationBytes"] = report.PeakActivationBytes,
            },
            PeakLayerIndex = report.PeakLayerIndex,
            Layers = report.Layers.Select(l => new LayerMetrics(l.Index, l.Kind, Where(l), l.Cost.Macc, l.Cost.Params, l.Cost.WeightsBytes, l.Cost.ActivationBytes, l.Cost.MemoryAccess) { Name = l.Name, OutputShape = l.OutputShape, Inputs = l.InputLayers }).ToList(),
            InputSha256 = inputSha256 ?? new Dictionary<string, string>(),
            Optimizer = optimizer ?? new Dictionary<string, string>(),
        };
    }

    /// <summary>
    /// These figures as a model report (per-layer figures, output shapes, the layers each reads), for
    /// what works on reports: the build's HTML report and the layer pairing of <see cref="ModelDiff"/>.
    /// A layer's ops are its kind: the metrics keep no more.
    /// </summary>
    public ModelReport ToReport()
    {
        long Total(string key) => Totals.TryGetValue(key, out var v) ? v : 0;
        static CostFigures Figures(LayerMetrics l) => new()
        {
            Macc = l.Macc,
            Params = l.Params,
            WeightsBytes = l.WeightsBytes,
            ActivationBytes = l.ActivationBytes,
            MemoryAccess = l.MemoryAccess,
        };
        var layers = Layers
            .Select(l => new LayerReport(l.Index, l.Kind, l.Name, l.Location, l.OutputShape, [l.Kind], Figures(l)) { InputLayers = l.Inputs })
            .ToList();
        var totals = new CostFigures
        {
            Params = Total("params"),
            Macc = Total("macc"),
            Flops = Total("flops"),
            MemoryAccess = Total("memoryAccess"),
            MemoryAccessIdeal = Total("memoryAccessIdeal"),
            ActivationBytes = Total("activationBytes"),
            WeightsBytes = Total("weightsBytes"),
        };
        return new ModelReport(
            ModelPath,
            Path.GetExtension(ModelPath).TrimStart('.'),
            Optimizer.GetValueOrDefault("inputShape", string.Empty),
            CountingConvention.Default,
            layers,
            totals,
            Total("peakActivationBytes"),
            PeakLayerIndex);
    }

    public string ToJson()
    {
        var layers = new JsonArray();
        foreach (var l in Layers)
        {
            layers.Add(new JsonObject
            {
                ["index"] = l.Index,
                ["kind"] = l.Kind,
                ["name"] = l.Name,
                ["file"] = l.Location.File,
                ["line"] = l.Location.Line,
                ["column"] = l.Location.Column,
                ["macc"] = l.Macc,
                ["params"] = l.Params,
                ["weightsBytes"] = l.WeightsBytes,
                ["activationBytes"] = l.ActivationBytes,
                ["memoryAccess"] = l.MemoryAccess,
                ["outputShape"] = l.OutputShape,
                ["inputs"] = new JsonArray([.. l.Inputs.Select(i => (JsonNode?)JsonValue.Create(i))]),
            });
            if (l.OutputError is { } error)
            {
                layers[^1]!["outputError"] = error;
            }
        }

        var warnings = new JsonArray();
        foreach (var w in Warnings)
        {
            warnings.Add(new JsonObject
            {
                ["code"] = w.Code,
                ["file"] = w.Location.File,
                ["line"] = w.Location.Line,
                ["column"] = w.Location.Column,
                ["message"] = w.Message,
            });
        }

        var root = new JsonObject
        {
            ["schemaVersion"] = SchemaVersion,
            ["model"] = ModelPath,
            ["totals"] = ToObject(Totals, v => JsonValue.Create(v)),
            ["peakLayer"] = PeakLayerIndex,
            ["inputSha256"] = ToObject(InputSha256, v => JsonValue.Create(v)),
            ["optimizer"] = ToObject(Optimizer, v => JsonValue.Create(v)),
            ["layers"] = layers,
            ["warnings"] = warnings,
        };
        if (Accuracy is { } accuracy)
        {
            root["accuracy"] = new JsonObject
            {
                ["encoding"] = accuracy.Encoding,
                ["measuredOn"] = accuracy.MeasuredOn,
                ["outputs"] = new JsonArray([.. accuracy.Outputs.Select(o => (JsonNode?)new JsonObject
                {
                    ["output"] = o.Output,
                    ["maxRelativeError"] = o.MaxRelativeError,
                    ["meanRelativeError"] = o.MeanRelativeError,
                    ["top1Agreement"] = o.Top1Agreement,
                })]),
            };
        }

        return CanonicalJson.Write(root);
    }

    /// <summary>Reads a metrics file; a missing or damaged one is NM0068 (the optimise step must run again).</summary>
    public static ModelMetrics Load(string path)
    {
        if (!File.Exists(path))
        {
            throw DiagnosticCodes.MetricsUnavailable.Exception(new SourceLocation(path), $"Metrics file '{path}' does not exist; the optimise step did not run or failed. Rebuild.");
        }

        try
        {
            return Parse(File.ReadAllText(path, Encoding.UTF8));
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException or FormatException or KeyNotFoundException or NullReferenceException)
        {
            throw DiagnosticCodes.MetricsUnavailable.Exception(new SourceLocation(path), $"Metrics file '{path}' is damaged ({e.Message}); delete it and rebuild.");
        }
    }

    public static ModelMetrics Parse(string json)
    {
        var root = JsonNode.Parse(json)!.AsObject();
        var version = root["schemaVersion"]!.GetValue<int>();
        if (version != SchemaVersion)
        {
            throw new FormatException($"schemaVersion {version} is not {SchemaVersion}");
        }

        var layers = root["layers"]!.AsArray().Select(n => n!.AsObject()).Select(o => new LayerMetrics(
            o["index"]!.GetValue<int>(),
            o["kind"]!.GetValue<string>(),
            new SourceLocation(o["file"]!.GetValue<string>(), o["line"]!.GetValue<int>(), o["column"]!.GetValue<int>()),
            o["macc"]!.GetValue<long>(),
            o["params"]!.GetValue<long>(),
            o["weightsBytes"]!.GetValue<long>(),
            o["activationBytes"]!.GetValue<long>(),
            o["memoryAccess"]!.GetValue<long>())
        {
            Name = o["name"]?.GetValue<string>() ?? string.Empty,
            OutputShape = o["outputShape"]?.GetValue<string>() ?? string.Empty,
            Inputs = o["inputs"]?.AsArray().Select(i => i!.GetValue<int>()).ToList() ?? [],
            OutputError = o["outputError"]?.GetValue<double>(),
        }).ToList();
        return new ModelMetrics
        {
            ModelPath = root["model"]!.GetValue<string>(),
            Totals = root["totals"]!.AsObject().ToDictionary(p => p.Key, p => p.Value!.GetValue<long>(), StringComparer.Ordinal),
            PeakLayerIndex = root["peakLayer"]!.GetValue<int>(),
            Layers = layers,
            InputSha256 = root["inputSha256"]!.AsObject().ToDictionary(p => p.Key, p => p.Value!.GetValue<string>(), StringComparer.Ordinal),
            Optimizer = root["optimizer"]!.AsObject().ToDictionary(p => p.Key, p => p.Value!.GetValue<string>(), StringComparer.Ordinal),
            Warnings = root["warnings"]?.AsArray().Select(n => n!.AsObject()).Select(ParseWarning).ToList() ?? [],
            Accuracy = root["accuracy"] is JsonObject accuracy
                ? new ModelAccuracy(
                    accuracy["encoding"]!.GetValue<string>(),
                    [.. accuracy["outputs"]!.AsArray().Select(n => n!.AsObject()).Select(o => new OutputError(
                        o["output"]!.GetValue<string>(),
                        o["maxRelativeError"]!.GetValue<double>(),
                        o["meanRelativeError"]!.GetValue<double>(),
                        o["top1Agreement"]?.GetValue<double>()))])
                {
                    MeasuredOn = accuracy["measuredOn"]?.GetValue<string>() ?? Evaluation.EvaluationInputs.SyntheticDescription,
                }
                : null,
        };
    }

    private static Diagnostic ParseWarning(JsonObject o)
    {
        var code = o["code"]!.GetValue<string>();
        var descriptor = DiagnosticCodes.All.FirstOrDefault(d => d.Code == code && d.Severity == DiagnosticSeverity.Warning)
            ?? throw new FormatException($"'{code}' is not a NeuralBuild warning code");
        return descriptor.At(
            new SourceLocation(o["file"]!.GetValue<string>(), o["line"]!.GetValue<int>(), o["column"]!.GetValue<int>()),
            o["message"]!.GetValue<string>());
    }

    private static JsonObject ToObject<T>(IReadOnlyDictionary<string, T> values, Func<T, JsonNode?> convert)
    {
        var o = new JsonObject();
        foreach (var (k, v) in values)
        {
            o[k] = convert(v);
        }

        return o;
    }
}
