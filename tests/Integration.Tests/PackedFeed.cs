using System.Diagnostics;
using System.Text.RegularExpressions;

namespace NeuralBuild.Integration.Tests;

/// <summary>
/// One local feed per test run: src/Tasks packed with <c>dotnet pack</c> exactly as released, plus a
/// per-run NuGet packages folder so no scenario can pick up a stale extracted copy.
/// </summary>
internal sealed partial class PackedFeed
{
    private static readonly Lazy<PackedFeed> s_instance = new(() => new PackedFeed(), LazyThreadSafetyMode.ExecutionAndPublication);

    public static PackedFeed Instance => s_instance.Value;

    /// <summary>Removes the run's feed, packages and scenario folders (keep them with NEURALBUILD_KEEP_SCENARIOS=1).</summary>
    public static void CleanUp()
    {
        if (s_instance.IsValueCreated && Environment.GetEnvironmentVariable("NEURALBUILD_KEEP_SCENARIOS") != "1")
        {
            try
            {
                Directory.Delete(s_instance.Value.Root, recursive: true);
            }
            catch (IOException)
            {
            }
        }
    }

    private PackedFeed()
    {
        Root = Path.Combine(Path.GetTempPath(), "nb-it-" + DateTime.UtcNow.ToString("yyyyMMddHHmmss", System.Globalization.CultureInfo.InvariantCulture) + "-" + Guid.NewGuid().ToString("N")[..6]);
        Feed = Path.Combine(Root, "feed");
        Packages = Path.Combine(Root, "packages");
        Directory.CreateDirectory(Feed);
        Directory.CreateDirectory(Packages);
        var project = Path.Combine(RepoRoot, "src", "Tasks", "NeuralBuild.Tasks.csproj");
        var pack = DotNet.Run(Root, $"pack \"{project}\" -c Release -o \"{Feed}\"", this);
        Assert.AreEqual(0, pack.ExitCode, "dotnet pack failed:\n" + pack.Output);
        var package = Directory.GetFiles(Feed, "NeuralBuild.*.nupkg").Single(f => !Path.GetFileName(f).StartsWith("NeuralBuild.Tool.", StringComparison.Ordinal));
        Version = VersionOf().Match(Path.GetFileName(package)).Groups[1].Value;
    }

    /// <summary>A stand-in rooted at <paramref name="root"/> for tests that need folders but no package.</summary>
    public static PackedFeed ForFolder(string root) => new(root);

    private PackedFeed(string root)
    {
        Root = root;
        Feed = Path.Combine(root, "feed");
        Packages = Path.Combine(root, "packages");
        Version = "0.0.0";
    }

    public string Root { get; }

    public string Feed { get; }

    public string Packages { get; }

    /// <summary>The packed NeuralBuild version (what a user's PackageReference names).</summary>
    public string Version { get; }

    public static string RepoRoot { get; } = FindUp("NeuralBuild.slnx");

    public static string DebianYoloTiny => "/usr/share/darknet/cfg/yolov3-tiny.cfg";

    public static string YoloTinyCfg => File.Exists(DebianYoloTiny) ? DebianYoloTiny : Path.Combine(RepoRoot, "samples", "EmbeddedApp", "yolov3-tiny.cfg");

    private static string FindUp(string marker)
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, marker)))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException($"{marker} not found above {AppContext.BaseDirectory}.");
    }

    [GeneratedRegex(@"^NeuralBuild\.(\d+\.\d+\.\d+.*)\.nupkg$")]
    private static partial Regex VersionOf();
}

/// <summary>Runs the real <c>dotnet</c> CLI the way a user's shell would.</summary>
internal static class DotNet
{
    public sealed record Result(int ExitCode, string Output);

    /// <summary>
    /// Runs <c>dotnet ARGS</c> in <paramref name="directory"/> with output going to a file (so no
    /// long-lived compiler server can hold a pipe open), a clean environment (no CI, no MSBuild
    /// variables of the test host), the per-run packages folder, and no node reuse.
    /// </summary>
    public static Result Run(string directory, string arguments, PackedFeed? feed, IDictionary<string, string>? environment = null, string executable = "dotnet")
    {
        var output = Path.Combine(directory, ".out-" + Guid.NewGuid().ToString("N")[..8] + ".txt");
        var start = new ProcessStartInfo("/bin/sh")
        {
            WorkingDirectory = directory,
            UseShellExecute = false,
        };
        start.ArgumentList.Add("-c");
        start.ArgumentList.Add($"exec {executable} {arguments} > \"{output}\" 2>&1 < /dev/null");
        foreach (var key in start.Environment.Keys.ToList())
        {
            if (key.StartsWith("MSBUILD", StringComparison.OrdinalIgnoreCase) || key.StartsWith("_MSBUILD", StringComparison.OrdinalIgnoreCase)
                || key is "CI" or "ContinuousIntegrationBuild" or "TF_BUILD" or "GITHUB_ACTIONS" or "DOTNET_HOST_PATH" or "TESTINGPLATFORM_UI_LANGUAGE")
            {
                start.Environment.Remove(key);
            }
        }

        start.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        start.Environment["DOTNET_NOLOGO"] = "1";
        start.Environment["DOTNET_SKIP_FIRST_TIME_EXPERIENCE"] = "1";
        start.Environment["MSBUILDDISABLENODEREUSE"] = "1";
        start.Environment["DOTNET_CLI_USE_MSBUILD_SERVER"] = "0";
        if (feed is not null)
        {
            start.Environment["NUGET_PACKAGES"] = feed.Packages;
        }

        foreach (var (k, v) in environment ?? new Dictionary<string, string>())
        {
            start.Environment[k] = v;
        }

        // A guard against a hung build, not a time budget: on two busy cores one pack took over 5 minutes.
        using var process = Process.Start(start)!;
        if (!process.WaitForExit(TimeSpan.FromMinutes(15)))
        {
            process.Kill(entireProcessTree: true);
            Assert.Fail($"dotnet {arguments} in {directory} did not finish in 15 minutes.");
        }

        var text = File.ReadAllText(output);
        File.Delete(output);
        return new Result(process.ExitCode, text);
    }
}
