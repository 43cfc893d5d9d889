using NeuralBuild.Engine.Diagnostics;

namespace NeuralBuild.Engine.Budgets;

/// <summary>
/// The one rule by which the build and the tool recognise a CI run, where a baseline is never
/// written (NM0064): <c>CI</c> or <c>ContinuousIntegrationBuild</c> is <c>true</c> (any case), as an
/// environment variable or, in the build, an MSBuild property (MSBuild exposes the environment as
/// properties, so both arrive the same way).
/// </summary>
public static class ContinuousIntegration
{
    public static bool IsActive(string? ci, string? continuousIntegrationBuild) =>
        IsTrue(ci) || IsTrue(continuousIntegrationBuild);

    /// <summary>The rule applied to this process's environment (the tool).</summary>
    public static bool IsActiveInEnvironment() =>
        IsActive(Environment.GetEnvironmentVariable("CI"), Environment.GetEnvironmentVariable("ContinuousIntegrationBuild"));

    /// <summary>NM0064: the refusal both report, naming the baseline that stays unchanged.</summary>
    public static Diagnostic BaselineUpdateRefused(SourceLocation where, string request, string baselinePath) =>
        DiagnosticCodes.BaselineUpdateRefusedInCi.At(where,
            $"{request} in a CI build (ContinuousIntegrationBuild or CI is true): a baseline is accepted by a person, locally, and committed. Run 'dotnet build -p:NeuralUpdateBaseline=true' or 'dotnet neural baseline accept MODEL --reason \"…\"' on your machine; '{baselinePath}' is unchanged.");

    private static bool IsTrue(string? value) => string.Equals(value?.Trim(), "true", StringComparison.OrdinalIgnoreCase);
}
