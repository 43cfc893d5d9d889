namespace NeuralBuild.Integration.Tests;

[TestClass]
public static class AssemblyHooks
{
    /// <summary>The run's feed, packages folder and scenarios are removed at the end (they hold tens of MB).</summary>
    [AssemblyCleanup]
    public static void DeleteScenarios() => PackedFeed.CleanUp();
}
