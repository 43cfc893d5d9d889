using NeuralBuild.Engine.Tests.Formats.Onnx;

namespace NeuralBuild.Engine.Tests;

[TestClass]
public static class AssemblyHooks
{
    /// <summary>
    /// The torchvision exports (hundreds of MB) are shared by several test classes that run in
    /// parallel, so they are removed once, at the end of the run, not when one class finishes.
    /// </summary>
    [AssemblyCleanup]
    public static void DeleteExports() => OnnxExport.Cleanup();
}
