using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using NeuralBuild.Engine.Diagnostics;
using NuGet.Versioning;

namespace NeuralBuild.Engine.Budgets;

/// <summary>What the baseline says about one model.</summary>
public sealed record BaselineEntry(string Key, NuGetVersion? ModelVersion, IReadOnlyDictionary<string, long> Metrics, string? AcceptedWhen, string? AcceptedWhy)
{
    /// <summary>
    /// The accepted per-layer figures (index, kind, name, line, output shape, MACC, params, weights,
    /// activation and memory access); null for a baseline recorded before they were kept.
    /// </summary>
    public IReadOnlyList<LayerMetrics>? Layers { get; init; }

    /// <summary>The entry as metrics of <paramref name="modelPath"/> (the lines point into it), so it can be paired layer by layer with the current figures.</summary>
    public ModelMetrics ToMetrics(string modelPath) => new()
    {
        ModelPath = modelPath,
        Totals = Metrics,
        Layers = [.. (Layers ?? []).Select(l => l with { Location = new SourceLocation(modelPath, l.Location.Line, l.Location.Column) })],
        PeakLayerIndex = -1,
    };
}

/// <summary>
/// The checked-in baseline (<c>neural-baseline.json</c>): machine-written JSON with sorted keys,
/// two-space indentation and exact integers.
/// <code>
/// { "models": { "models/yolo.cfg": { "accepted": { "when": "…", "why": "…" },
///     "inputSha256": { "definition": "…", "weights": "…" }, "metrics": { "macc": 2782480896, … },
///     "layers": [ { "index": 0, "kind": "convolutional", "line": 9, "macc": 1769472, … }, … ],
///     "modelVersion": "1.2.0", "optimizer": { "dialect": "AlexeyAB", … } } },
///   "schemaVersion": 1 }
/// </code>
/// Models are keyed by their path relative to the baseline file's folder, with '/' separators.
/// <c>layers</c> (the per-layer figures, which a regression is explained by) is optional: entries
/// written before it existed are read without it.
/// The document is kept as a JSON tree, so fields this version does not know survive a rewrite.
/// </summary>
public sealed class BaselineFile
{
    public const int SchemaVersion = 1;

    private readonly JsonObject _root;

    private BaselineFile(string path, JsonObject root, bool exists)
    {
        Path = path;
        _root = root;
        Exists = exists;
    }

    public string Path { get; }

    /// <summary>Whether the file was on disk when loaded.</summary>
    public bool Exists { get; }

    /// <summary>Loads <paramref name="path"/>; a missing file is an empty baseline, a damaged one NM0063.</summary>
    public static BaselineFile Load(string path)
    {
        if (!File.Exists(path))
        {
            return new BaselineFile(path, new JsonObject { ["schemaVersion"] = SchemaVersion, ["models"] = new JsonObject() }, exists: false);
        }

        JsonObject root;
        try
        {
            root = JsonNode.Parse(File.ReadAllText(path), documentOptions: new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip })?.AsObject()
                ?? throw new FormatException("the file holds null");
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException or FormatException)
        {
            throw DiagnosticCodes.BaselineUnreadable.Exception(new SourceLocation(path), $"Baseline '{path}' is not valid JSON ({e.Message}). Fix it or restore it from version control.");
        }

        var version = root["schemaVersion"] is JsonValue v && v.TryGetValue<int>(out var n) ? n : 0;
        if (version != SchemaVersion)
        {
            throw DiagnosticCodes.BaselineUnreadable.Exception(new SourceLocation(path),
                version > SchemaVersion
                    ? $"Baseline '{path}' has schemaVersion {version}, written by a newer NeuralBuild than this one (which reads {SchemaVersion}); update the NeuralBuild package."
                    : $"Baseline '{path}' has no valid schemaVersion (expected {SchemaVersion}).");
        }

        if (root["models"] is not JsonObject)
        {
            if (root["models"] is not null)
            {
                throw DiagnosticCodes.BaselineUnreadable.Exception(new SourceLocation(path), $"Baseline '{path}': \"models\" must be an object keyed by model path.");
            }

            root["models"] = new JsonObject();
        }

        return new BaselineFile(path, root, exists: true);
    }

    private JsonObject Models => (JsonObject)_root["models"]!;

    public IEnumerable<string> Keys => Models.Select(p => p.Key);

    /// <summary>The key of <paramref name="modelPath"/>: relative to the baseline's folder, '/' separated.</summary>
    public string KeyFor(string modelPath)
    {
        var folder = System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(Path))!;
        return System.IO.Path.GetRelativePath(folder, System.IO.Path.GetFullPath(modelPath)).Replace('\\', '/');
    }

    /// <summary>The entry for <paramref name="key"/>, or null. Throws NM0063/NM0062 on a damaged entry.</summary>
    public BaselineEntry? Find(string key)
    {
        if (Models[key] is not JsonObject entry)
        {
            return null;
        }

        var where = new SourceLocation(Path);
        NuGetVersion? version = null;
        if (entry["modelVersion"] is JsonValue mv && mv.TryGetValue<string>(out var text))
        {
            version = NuGetVersion.TryParse(text, out var parsed) ? parsed
                : throw DiagnosticCodes.InvalidModelVersion.Exception(where, $"Baseline entry '{key}' has modelVersion '{text}', which is not a SemVer version such as 1.2.0.");
        }

        var metrics = new Dictionary<string, long>(StringComparer.Ordinal);
        if (entry["metrics"] is JsonObject m)
        {
            foreach (var (name, value) in m)
            {
                if (value is JsonValue jv && jv.GetValueKind() == JsonValueKind.Number && jv.TryGetValue<long>(out var l))
                {
                    metrics[name] = l;
                }
                else if (value is not null && decimal.TryParse(value.ToJsonString(), NumberStyles.Integer, CultureInfo.InvariantCulture, out var d))
                {
                    metrics[name] = (long)d;
                }
                else
                {
                    throw DiagnosticCodes.BaselineUnreadable.Exception(where, $"Baseline entry '{key}': metric '{name}' is {value?.ToJsonString() ?? "null"}, not an integer.");
                }
            }
        }

        var accepted = entry["accepted"] as JsonObject;
        return new BaselineEntry(key, version, metrics, Str(accepted?["when"]), Str(accepted?["why"])) { Layers = ReadLayers(entry["layers"], key, where) };
    }

    private static List<LayerMetrics>? ReadLayers(JsonNode? node, string key, SourceLocation where)
    {
        if (node is null)
        {
            return null;
        }

        NeuralException Damaged(string what) => DiagnosticCodes.BaselineUnreadable.Exception(where, $"Baseline entry '{key}': \"layers\" {what}; record the baseline again.");
        if (node is not JsonArray array)
        {
            throw Damaged("must be an array of layers");
        }

        var layers = new List<LayerMetrics>(array.Count);
        foreach (var item in array)
        {
            if (item is not JsonObject o)
            {
                throw Damaged($"holds {item?.ToJsonString() ?? "null"}, not a layer object");
            }

            long Number(string name, bool required = true) =>
                o[name] is JsonValue v && v.GetValueKind() == JsonValueKind.Number && v.TryGetValue<long>(out var n) ? n
                : o[name] is null && !required ? 0
                : throw Damaged($"has a layer whose \"{name}\" is {o[name]?.ToJsonString() ?? "missing"}, not an integer");
            var index = Number("index");
            if (index is < 0 or > int.MaxValue)
            {
                throw Damaged($"has a layer index {index}");
            }

            layers.Add(new LayerMetrics(
                (int)index,
                Str(o["kind"]) ?? throw Damaged("has a layer without a \"kind\""),
                new SourceLocation(string.Empty, (int)Math.Clamp(Number("line", required: false), 0, int.MaxValue), 0),
                Number("macc"),
                Number("params"),
                Number("weightsBytes"),
                Number("activationBytes"),
                Number("memoryAccess", required: false))
            {
                Name = Str(o["name"]) ?? string.Empty,
                OutputShape = Str(o["outputShape"]) ?? string.Empty,
            });
        }

        return layers;
    }

    /// <summary>One accepted layer: what pairing it with the current model's layer needs (index, kind, name), where it is, and its figures.</summary>
    private static JsonObject LayerNode(LayerMetrics l)
    {
        var node = new JsonObject
        {
            ["index"] = l.Index,
            ["kind"] = l.Kind,
            ["macc"] = l.Macc,
            ["params"] = l.Params,
            ["weightsBytes"] = l.WeightsBytes,
            ["activationBytes"] = l.ActivationBytes,
            ["memoryAccess"] = l.MemoryAccess,
        };
        if (l.Name.Length > 0)
        {
            node["name"] = l.Name;
        }

        if (l.Location.HasLine)
        {
            node["line"] = l.Location.Line;
        }

        if (l.OutputShape.Length > 0)
        {
            node["outputShape"] = l.OutputShape;
        }

        return node;
    }

    private static string? Str(JsonNode? node) => node is JsonValue v && v.TryGetValue<string>(out var s) ? s : null;

    /// <summary>
    /// Records <paramref name="metrics"/> as the accepted figures of <paramref name="key"/>. Known
    /// fields are replaced; any other field of the entry (or of its metrics) is kept.
    /// </summary>
    public void Record(string key, ModelMetrics metrics, NuGetVersion? modelVersion, string why, DateTimeOffset when)
    {
        if (Models[key] is not JsonObject entry)
        {
            entry = new JsonObject();
            Models[key] = entry;
        }

        entry["accepted"] = MergeInto(entry["accepted"] as JsonObject, new Dictionary<string, JsonNode?>
        {
            ["when"] = when.ToUniversalTime().ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture),
            ["why"] = why,
        });
        entry["inputSha256"] = MergeInto(entry["inputSha256"] as JsonObject, metrics.InputSha256.ToDictionary(p => p.Key, p => (JsonNode?)p.Value));
        entry["optimizer"] = MergeInto(entry["optimizer"] as JsonObject, metrics.Optimizer.ToDictionary(p => p.Key, p => (JsonNode?)p.Value));
        entry["metrics"] = MergeInto(entry["metrics"] as JsonObject, BudgetMetric.All.ToDictionary(m => m.Key, m => (JsonNode?)metrics.Value(m)));
        entry["layers"] = new JsonArray([.. metrics.Layers.Select(l => (JsonNode?)LayerNode(l))]);
        if (modelVersion is not null)
        {
            entry["modelVersion"] = modelVersion.ToNormalizedString();
        }
        else
        {
            entry.Remove("modelVersion");
        }
    }

    private static JsonObject MergeInto(JsonObject? existing, Dictionary<string, JsonNode?> values)
    {
        existing ??= [];
        foreach (var (k, v) in values)
        {
            existing[k] = v;
        }

        return existing;
    }

    public string ToJson() => CanonicalJson.Write(_root);

    /// <summary>Writes the file through a temporary file moved into place.</summary>
    public void Save() => CanonicalJson.WriteFileAtomically(Path, ToJson());
}
