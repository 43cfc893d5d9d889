using System.Diagnostics;

namespace NeuralBuild.Engine.Tests.Formats.Onnx;

/// <summary>
/// The independent check of a written file: ONNX's own <c>onnx.checker.check_model</c> (Debian's
/// python3-onnx, installed by .ci/run) with <c>full_check</c>, which also runs ONNX shape inference
/// over the graph, so a type or shape that does not fit a node fails too.
/// </summary>
internal static class OnnxChecker
{
    private const string Script = """
        import sys
        import onnx
        onnx.checker.check_model(sys.argv[1], full_check=True)
        model = onnx.load(sys.argv[1])
        print(len(model.graph.node), " ".join(sorted({n.op_type for n in model.graph.node})))
        """;

    /// <summary>Runs the checker; throws with its message when the model is not valid ONNX. Returns "node-count op-types".</summary>
    public static string Check(string path)
    {
        var python = File.Exists("/usr/bin/python3") ? "/usr/bin/python3" : "python3";
        var start = new ProcessStartInfo(python) { RedirectStandardError = true, RedirectStandardOutput = true };
        start.ArgumentList.Add("-c");
        start.ArgumentList.Add(Script);
        start.ArgumentList.Add(path);
        using var process = Process.Start(start)!;
        var stderr = process.StandardError.ReadToEndAsync();
        var stdout = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        if (process.ExitCode != 0)
        {
            throw new AssertFailedException($"onnx.checker.check_model rejected '{path}':\n{stderr.Result}");
        }

        return stdout.Trim();
    }
}
