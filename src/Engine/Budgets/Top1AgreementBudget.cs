using NeuralBuild.Engine.Diagnostics;

namespace NeuralBuild.Engine.Budgets;

/// <summary>
/// The least share of inputs whose top-1 class a lossy export must keep, as written
/// (<c>MinTop1Agreement=99%</c>) and as a fraction; checked on every classifier output.
/// </summary>
public sealed record Top1AgreementBudget(string Setting, string Text, double Value)
{
    public const string SettingName = "MinTop1Agreement";

    /// <summary>A percentage from 0% to 100% ("99%", "99.5%") as a fraction; anything else is NM0379.</summary>
    public static double Parse(string text, SourceLocation where) =>
        OutputErrorBudget.TryParsePercent(text, 100, out var fraction)
            ? fraction
            : throw DiagnosticCodes.InvalidEvaluationSetting.Exception(where, $"{SettingName} '{text}': give a percentage of the inputs from 0% to 100%, such as 99%.");
}
