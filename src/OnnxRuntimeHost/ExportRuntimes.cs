using NeuralBuild.Engine.Formats;
using NeuralBuild.Engine.Pipeline;

namespace NeuralBuild.OnnxRuntimeHost;

/// <summary>
/// The runtimes a host can run an exported file in, by the export's format: the one place that knows
/// ONNX Runtime runs ONNX files, so the hosts (the tool, the build's check) name no format.
/// </summary>
public static class ExportRuntimes
{
    /// <summary>A runtime for <paramref name="path"/>, written as <paramref name="format"/>; null when no runtime runs that format here.</summary>
    public static IModelRuntime? Open(IModelFormat format, string path, int threads = 0)
    {
        ArgumentNullException.ThrowIfNull(format);
        return format.Name == "onnx" ? new OnnxRuntimeModel(path, threads) : null;
    }
}
