using NeuralBuild.Engine.Pipeline;

namespace NeuralBuild.Fuzzer.Running;

/// <summary>What an input is fed to. The fuzzer's own tests substitute misbehaving targets.</summary>
public interface IFuzzTarget
{
    void Run(string definitionPath, string outputDirectory);
}

/// <summary>
/// The whole <c>fuse</c> path as the MSBuild task and <c>dotnet neural fuse</c> run it: read, passes,
/// per-fold verification, write, re-read and analyse.
/// </summary>
public sealed class FuseTarget : IFuzzTarget
{
    public void Run(string definitionPath, string outputDirectory) =>
        ModelOptimizer.Optimize(new OptimizeRequest { DefinitionPath = definitionPath, OutputDirectory = outputDirectory, Verify = VerifyMode.Layers });
}
