using NeuralBuild.Engine.Budgets;
using NeuralBuild.Engine.Diagnostics;
using NuGet.Versioning;

namespace NeuralBuild.Engine.Tests.Budgets;

[TestClass]
public sealed class BaselineFileTests
{
    public TestContext TestContext { get; set; } = null!;

    private string NewDirectory()
    {
        var dir = Path.Combine(Path.GetTempPath(), "nb-baseline-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        return dir;
    }

    private static ModelMetrics Metrics(string path, long macc) => new()
    {
        ModelPath = path,
        Totals = new Dictionary<string, long> { ["macc"] = macc, ["params"] = 2, ["weightsBytes"] = 8, ["peakActivationBytes"] = 9_007_199_254_740_993, ["memoryAccess"] = 5 },
        Layers = [],
        InputSha256 = new Dictionary<string, string> { ["definition"] = "aa", ["weights"] = "bb" },
        Optimizer = new Dictionary<string, string> { ["verify"] = "Layers", ["dialect"] = "AlexeyAB" },
    };

    [TestMethod]
    public void Written_file_is_sorted_indented_exact_and_reads_back()
    {
        var dir = NewDirectory();
        var path = Path.Combine(dir, "neural-baseline.json");
        var baseline = BaselineFile.Load(path);
        Assert.IsFalse(baseline.Exists);
        var key = baseline.KeyFor(Path.Combine(dir, "models", "yolo.cfg"));
        Assert.AreEqual("models/yolo.cfg", key);
        baseline.Record(key, Metrics("x", 2_782_480_896), NuGetVersion.Parse("1.2.0"), "first", new DateTimeOffset(2026, 1, 2, 3, 4, 5, TimeSpan.Zero));
        baseline.Save();

        // Expected text written by hand: keys sorted at every level, 2 spaces, a 2^53+1 integer kept exact.
        var expected = """
            {
              "models": {
                "models/yolo.cfg": {
                  "accepted": {
                    "when": "2026-01-02T03:04:05Z",
                    "why": "first"
                  },
                  "inputSha256": {
                    "definition": "aa",
                    "weights": "bb"
                  },
                  "layers": [],
                  "metrics": {
                    "macc": 2782480896,
                    "memoryAccess": 5,
                    "params": 2,
                    "peakActivationBytes": 9007199254740993,
                    "weightsBytes": 8
                  },
                  "modelVersion": "1.2.0",
                  "optimizer": {
                    "dialect": "AlexeyAB",
                    "verify": "Layers"
                  }
                }
              },
              "schemaVersion": 1
            }

            """;
        Assert.AreEqual(expected, File.ReadAllText(path));

        var entry = BaselineFile.Load(path).Find(key)!;
        Assert.AreEqual(9_007_199_254_740_993L, entry.Metrics["peakActivationBytes"]);
        Assert.AreEqual(NuGetVersion.Parse("1.2.0"), entry.ModelVersion);
        Assert.AreEqual("first", entry.AcceptedWhy);
        Assert.IsFalse(Directory.EnumerateFiles(dir, "*.tmp", SearchOption.AllDirectories).Any(), "no temporary file left behind");
    }

    [TestMethod]
    public void Unknown_fields_survive_a_rewrite()
    {
        var dir = NewDirectory();
        var path = Path.Combine(dir, "neural-baseline.json");
        File.WriteAllText(path, """
            { "schemaVersion": 1, "zzTopLevel": {"keep": [1, 2.5, "x"]},
              "models": { "a.cfg": { "owner": "vision-team", "metrics": { "macc": 1, "customMetric": 12345678901234567 } },
                          "other.cfg": { "metrics": { "macc": 3 } } } }
            """);
        var baseline = BaselineFile.Load(path);
        baseline.Record("a.cfg", Metrics("a.cfg", 7), null, "why", DateTimeOffset.UnixEpoch);
        baseline.Save();

        var text = File.ReadAllText(path);
        StringAssert.Contains(text, "\"owner\": \"vision-team\"");
        StringAssert.Contains(text, "\"customMetric\": 12345678901234567");
        StringAssert.Contains(text, "\"keep\": [\n      1,\n      2.5,\n      \"x\"\n    ]");
        Assert.AreEqual(3L, BaselineFile.Load(path).Find("other.cfg")!.Metrics["macc"]);
        Assert.AreEqual(7L, BaselineFile.Load(path).Find("a.cfg")!.Metrics["macc"]);
    }

    [TestMethod]
    [DataRow("{ not json", "not valid JSON")]
    [DataRow("{ \"schemaVersion\": 2, \"models\": {} }", "newer NeuralBuild")]
    [DataRow("{ \"models\": {} }", "no valid schemaVersion")]
    public void Damaged_files_are_NM0063(string text, string hint)
    {
        var path = Path.Combine(NewDirectory(), "b.json");
        File.WriteAllText(path, text);
        var e = Assert.ThrowsExactly<NeuralException>(() => BaselineFile.Load(path));
        Assert.AreEqual("NM0063", e.Code);
        StringAssert.Contains(e.Message, hint);
    }

    [TestMethod]
    public void An_unparsable_model_version_is_NM0062()
    {
        var path = Path.Combine(NewDirectory(), "b.json");
        File.WriteAllText(path, """{ "schemaVersion": 1, "models": { "a.cfg": { "modelVersion": "one", "metrics": {} } } }""");
        Assert.AreEqual("NM0062", Assert.ThrowsExactly<NeuralException>(() => BaselineFile.Load(path).Find("a.cfg")).Code);
    }

    [TestMethod]
    public void Per_layer_figures_are_recorded_and_read_back_and_an_old_entry_has_none()
    {
        var dir = NewDirectory();
        var path = Path.Combine(dir, "neural-baseline.json");
        File.WriteAllText(path, """{ "schemaVersion": 1, "models": { "old.cfg": { "metrics": { "macc": 3 } } } }""");
        var model = Path.Combine(dir, "net.cfg");
        var metrics = Metrics(model, 7) with
        {
            Layers =
            [
                new LayerMetrics(0, "convolutional", new SourceLocation(model, 9, 1), 1_769_472, 224, 896, 131_072, 2_000_000) { OutputShape = "1x8x32x32" },
                new LayerMetrics(1, "Conv", new SourceLocation(model), 5, 6, 24, 8, 40) { Name = "head" },
            ],
        };
        var baseline = BaselineFile.Load(path);
        baseline.Record("net.cfg", metrics, null, "why", DateTimeOffset.UnixEpoch);
        baseline.Save();

        // Written by hand: sorted keys; a name, line or shape the layer does not have is left out.
        StringAssert.Contains(File.ReadAllText(path), """
                  "layers": [
                    {
                      "activationBytes": 131072,
                      "index": 0,
                      "kind": "convolutional",
                      "line": 9,
                      "macc": 1769472,
                      "memoryAccess": 2000000,
                      "outputShape": "1x8x32x32",
                      "params": 224,
                      "weightsBytes": 896
                    },
                    {
                      "activationBytes": 8,
                      "index": 1,
                      "kind": "Conv",
                      "macc": 5,
                      "memoryAccess": 40,
                      "name": "head",
                      "params": 6,
                      "weightsBytes": 24
                    }
                  ],
            """.Replace("\r\n", "\n", StringComparison.Ordinal));

        var reread = BaselineFile.Load(path);
        var layers = reread.Find("net.cfg")!.Layers!;
        Assert.HasCount(2, layers);
        Assert.AreEqual((0, "convolutional", 9, 1_769_472L, 224L, 896L, 131_072L, 2_000_000L, "1x8x32x32", ""),
            (layers[0].Index, layers[0].Kind, layers[0].Location.Line, layers[0].Macc, layers[0].Params, layers[0].WeightsBytes, layers[0].ActivationBytes, layers[0].MemoryAccess, layers[0].OutputShape, layers[0].Name));
        Assert.AreEqual(("head", 0, 5L), (layers[1].Name, layers[1].Location.Line, layers[1].Macc));
        Assert.IsNull(reread.Find("old.cfg")!.Layers, "an entry recorded before per-layer figures reads without them");
    }

    [TestMethod]
    [DataRow("\"layers\": 3", "must be an array")]
    [DataRow("\"layers\": [ { \"index\": 0, \"macc\": 1, \"params\": 1, \"weightsBytes\": 1, \"activationBytes\": 1 } ]", "without a \"kind\"")]
    [DataRow("\"layers\": [ { \"index\": 0, \"kind\": \"Conv\", \"macc\": \"many\", \"params\": 1, \"weightsBytes\": 1, \"activationBytes\": 1 } ]", "\"macc\" is \"many\"")]
    [DataRow("\"layers\": [ { \"index\": -1, \"kind\": \"Conv\", \"macc\": 1, \"params\": 1, \"weightsBytes\": 1, \"activationBytes\": 1 } ]", "layer index -1")]
    [DataRow("\"layers\": [ 7 ]", "not a layer object")]
    public void Damaged_layers_are_NM0063(string layers, string hint)
    {
        var path = Path.Combine(NewDirectory(), "b.json");
        File.WriteAllText(path, $$"""{ "schemaVersion": 1, "models": { "a.cfg": { "metrics": { "macc": 1 }, {{layers}} } } }""");
        var e = Assert.ThrowsExactly<NeuralException>(() => BaselineFile.Load(path).Find("a.cfg"));
        Assert.AreEqual("NM0063", e.Code);
        StringAssert.Contains(e.Message, hint);
    }
}
