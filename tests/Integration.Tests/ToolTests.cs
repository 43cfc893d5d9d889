using System.Text.Json;

namespace NeuralBuild.Integration.Tests;

/// <summary><c>dotnet neural check</c> and <c>baseline accept</c>: the build's verdicts and codes, exit 2 on violation.</summary>
[TestClass]
public sealed class ToolTests
{
    /// <summary>The CI variables the tool reads; cleared for each run (as <see cref="DotNet.Run"/> clears them for builds) unless a test sets them.</summary>
    private static readonly string[] s_ciVariables = ["CI", "ContinuousIntegrationBuild"];

    private static (int Exit, string Out, string Err) Neural(string directory, params string[] args) => Neural(directory, new Dictionary<string, string>(), args);

    /// <remarks>In-process, so <paramref name="environment"/> is set on this process for the run (the integration tests do not run in parallel).</remarks>
    private static (int Exit, string Out, string Err) Neural(string directory, Dictionary<string, string> environment, params string[] args)
    {
        var (stdout, stderr) = (Console.Out, Console.Error);
        var cwd = Environment.CurrentDirectory;
        var saved = s_ciVariables.ToDictionary(v => v, Environment.GetEnvironmentVariable);
        foreach (var variable in s_ciVariables)
        {
            Environment.SetEnvironmentVariable(variable, environment.GetValueOrDefault(variable));
        }

        using var o = new StringWriter();
        using var e = new StringWriter();
        Console.SetOut(o);
        Console.SetError(e);
        Environment.CurrentDirectory = directory;
        try
        {
            var exit = NeuralBuild.Tool.Program.Main(args);
            return (exit, o.ToString(), e.ToString());
        }
        finally
        {
            Console.SetOut(stdout);
            Console.SetError(stderr);
            Environment.CurrentDirectory = cwd;
            foreach (var (variable, value) in saved)
            {
                Environment.SetEnvironmentVariable(variable, value);
            }
        }
    }

    private readonly List<string> _folders = [];

    private string NewFolder()
    {
        var dir = Path.Combine(Path.GetTempPath(), "nb-tool-" + Guid.NewGuid().ToString("N")[..10]);
        Directory.CreateDirectory(dir);
        _folders.Add(dir);
        return dir;
    }

    [TestCleanup]
    public void DeleteFolders() => _folders.ForEach(d => Directory.Delete(d, recursive: true));

    [TestMethod]
    public void Check_reports_budget_errors_like_the_build_and_exits_2()
    {
        var dir = NewFolder();
        var s = new Scenario(PackedFeedless(dir), "m");
        var cfg = s.Model("tiny.cfg", Scenario.TinyCfg);

        var (exit, _, err) = Neural(s.Directory, "check", "tiny.cfg", "--max-macc", "500k", "--warn-params", "1");
        Assert.AreEqual(2, exit, err);
        var lines = err.Trim().Split('\n').Select(l => l.TrimEnd('\r')).ToArray();
        Assert.AreEqual(
            $"{cfg}(19,1): error NM1001: MACC is 516.1 kMAC (516,096), which exceeds MaxMacc=500k (500,000) by 16.1 kMAC (16,096). "
            + "Layers contributing most: layer 2 [convolutional] line 19: 294.9 kMAC (294,912); layer 0 [convolutional] line 7: 221.2 kMAC (221,184).",
            lines[0]);
        Assert.StartsWith($"{cfg}(19,1): warning NM2001: parameter count is", lines[1]);

        Assert.AreEqual(0, Neural(s.Directory, "check", "tiny.cfg", "--max-macc", "516096").Exit, "at the budget passes");
        var bad = Neural(s.Directory, "check", "tiny.cfg", "--max-weights-size", "2Mb");
        Assert.AreEqual(1, bad.Exit);
        Assert.Contains("error NM0060: MaxWeightsSize=\"2Mb\"", bad.Err);
    }

    [TestMethod]
    public void Baseline_accept_records_and_check_catches_the_regression()
    {
        var dir = NewFolder();
        var s = new Scenario(PackedFeedless(dir), "m");
        var cfg = s.Model("models/tiny.cfg", Scenario.TinyCfg);

        var accepted = Neural(s.Directory, "baseline", "accept", "models/tiny.cfg", "--reason", "initial", "--model-version", "2.0.0");
        Assert.AreEqual(0, accepted.Exit, accepted.Err);
        var entry = JsonDocument.Parse(File.ReadAllText(s.Path_("neural-baseline.json"))).RootElement.GetProperty("models").GetProperty("models/tiny.cfg");
        Assert.AreEqual(516_096L, entry.GetProperty("metrics").GetProperty("macc").GetInt64());
        Assert.AreEqual("initial", entry.GetProperty("accepted").GetProperty("why").GetString());

        Assert.AreEqual(0, Neural(s.Directory, "check", "models/tiny.cfg", "--baseline", "neural-baseline.json", "--model-version", "2.0.0").Exit);
        var older = Neural(s.Directory, "check", "models/tiny.cfg", "--baseline", "neural-baseline.json", "--model-version", "1.5.0");
        Assert.AreEqual(2, older.Exit);
        Assert.Contains("error NM1004:", older.Err);

        s.Model("models/tiny.cfg", Scenario.TinyCfg.Replace("filters=16", "filters=32", StringComparison.Ordinal));
        var regressed = Neural(s.Directory, "check", "models/tiny.cfg", "--baseline", "neural-baseline.json", "--max-macc-increase", "+10%");
        Assert.AreEqual(2, regressed.Exit);
        Assert.Contains($"{cfg}(19,1): error NM1002: MACC grew from 516.1 kMAC (516,096) in the baseline to 811 kMAC (811,008)", regressed.Err);

        Assert.AreEqual(1, Neural(s.Directory, "baseline", "accept", "models/tiny.cfg", "--reason", " ").Exit, "a reason is required");
    }

    [TestMethod]
    [DataRow("CI", "true")]
    [DataRow("CI", "TRUE")]
    [DataRow("ContinuousIntegrationBuild", "true")]
    public void Baseline_accept_is_refused_in_CI_as_the_build_refuses_it(string variable, string value)
    {
        var dir = NewFolder();
        var s = new Scenario(PackedFeedless(dir), "m");
        s.Model("models/tiny.cfg", Scenario.TinyCfg);
        var baseline = s.Path_("neural-baseline.json");

        var refused = Neural(s.Directory, new Dictionary<string, string> { [variable] = value }, "baseline", "accept", "models/tiny.cfg", "--reason", "in CI");

        Assert.AreEqual(1, refused.Exit, refused.Err);
        Assert.StartsWith($"{baseline}: error NM0064: dotnet neural baseline accept in a CI build (ContinuousIntegrationBuild or CI is true)", refused.Err);
        Assert.IsFalse(File.Exists(baseline), "nothing written");

        var notCi = Neural(s.Directory, new Dictionary<string, string> { [variable] = "false" }, "baseline", "accept", "models/tiny.cfg", "--reason", "locally");
        Assert.AreEqual(0, notCi.Exit, notCi.Err);
        Assert.IsTrue(File.Exists(baseline));
    }

    /// <summary>The tool needs no package feed; a Scenario only provides the folder and model helpers.</summary>
    private static PackedFeed PackedFeedless(string dir) => PackedFeed.ForFolder(dir);
}
