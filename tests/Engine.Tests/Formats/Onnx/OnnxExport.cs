using System.Diagnostics;

namespace NeuralBuild.Engine.Tests.Formats.Onnx;

/// <summary>
/// Runs export_models.py (Debian's python3-torch / python3-torchvision / python3-onnx, installed by
/// .ci/run) once per test run into a temporary folder, and hands out the exported models. The
/// folder is deleted by <see cref="AssemblyHooks"/> at the end of the run.
/// </summary>
internal static class OnnxExport
{
    public static readonly string[] Models = ["resnet18", "resnet50", "mobilenet_v2", "squeezenet1_1", "googlenet", "shufflenet_v2_x1_0", "densenet121"];

    /// <summary><see cref="Models"/> as test data rows, one per model.</summary>
    public static IEnumerable<object[]> EachModel => Models.Select(m => new object[] { m });

    private static readonly Lazy<string> s_folder = new(Export, LazyThreadSafetyMode.ExecutionAndPublication);

    public static string PathOf(string model) => Path.Combine(s_folder.Value, model + ".onnx");

    public static void Cleanup()
    {
        if (s_folder.IsValueCreated && Directory.Exists(s_folder.Value))
        {
            Directory.Delete(s_folder.Value, recursive: true);
        }
    }

    private static string Export()
    {
        var folder = Directory.CreateTempSubdirectory("neuralbuild-onnx-").FullName;
        var script = Path.Combine(TestPaths.RepoRoot, "tests", "Engine.Tests", "Formats", "Onnx", "export_models.py");
        var python = File.Exists("/usr/bin/python3") ? "/usr/bin/python3" : "python3";
        var start = new ProcessStartInfo(python) { RedirectStandardError = true, RedirectStandardOutput = true };
        start.ArgumentList.Add(script);
        start.ArgumentList.Add(folder);
        foreach (var model in Models)
        {
            start.ArgumentList.Add(model);
        }

        using var process = Process.Start(start)!;
        var stderr = process.StandardError.ReadToEndAsync();
        _ = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"export_models.py failed ({process.ExitCode}); .ci/run installs python3-torch, python3-torchvision and python3-onnx:\n{stderr.Result}");
        }

        return folder;
    }
}
