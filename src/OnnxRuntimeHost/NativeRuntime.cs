using System.Runtime.InteropServices;
using Microsoft.ML.OnnxRuntime;
using NeuralBuild.Engine.Formats;

namespace NeuralBuild.OnnxRuntimeHost;

/// <summary>
/// Points ONNX Runtime's managed API at a native library given as a file, for a process that ships
/// only the managed part (the build's runtime check uses the project's own ONNX Runtime package).
/// </summary>
public static class NativeRuntime
{
    /// <summary>The native library of this platform's ONNX Runtime, by file name.</summary>
    private static string LibraryFileName =>
        OperatingSystem.IsWindows() ? "onnxruntime.dll" : OperatingSystem.IsMacOS() ? "libonnxruntime.dylib" : "libonnxruntime.so";

    /// <summary>
    /// Makes the runtime of <paramref name="format"/> load from the first of <paramref name="candidates"/>
    /// (native files of the project's packages, any platform) that is its library for this platform and
    /// architecture. False when none is: the runtime is not available.
    /// </summary>
    public static bool Use(IModelFormat format, IReadOnlyList<string> candidates)
    {
        ArgumentNullException.ThrowIfNull(format);
        ArgumentNullException.ThrowIfNull(candidates);
        if (format.Name != "onnx")
        {
            return false;
        }

        var architecture = RuntimeInformation.ProcessArchitecture.ToString().ToLowerInvariant();
        var library = candidates.FirstOrDefault(path =>
            string.Equals(Path.GetFileName(path), LibraryFileName, StringComparison.Ordinal)
            && Path.GetFileName(Path.GetDirectoryName(Path.GetDirectoryName(path))) is { } rid
            && rid.EndsWith("-" + architecture, StringComparison.Ordinal)
            && File.Exists(path));
        if (library is null)
        {
            return false;
        }

        NativeLibrary.SetDllImportResolver(typeof(InferenceSession).Assembly, (name, _, _) =>
            name == "onnxruntime" ? NativeLibrary.Load(library) : IntPtr.Zero);
        return true;
    }
}
