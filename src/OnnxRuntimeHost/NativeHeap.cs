using System.Runtime.InteropServices;

namespace NeuralBuild.OnnxRuntimeHost;

/// <summary>The C allocator ONNX Runtime allocates from.</summary>
internal static partial class NativeHeap
{
    /// <summary>
    /// Returns the C heap's free memory to the system (glibc's malloc_trim). After a session of a
    /// large model closes, glibc keeps its hundreds of MB for reuse, and the reference executor's
    /// next run (managed memory) would come on top of them. Elsewhere (musl, other systems) nothing
    /// is trimmed.
    /// </summary>
    public static void Trim()
    {
        if (!OperatingSystem.IsLinux())
        {
            return;
        }

        try
        {
            _ = MallocTrim(0);
        }
        catch (EntryPointNotFoundException)
        {
        }
        catch (DllNotFoundException)
        {
        }
    }

    [LibraryImport("libc", EntryPoint = "malloc_trim")]
    private static partial int MallocTrim(nuint pad);
}
