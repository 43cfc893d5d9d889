using System.Globalization;
using NeuralBuild.Engine.Diagnostics;

namespace NeuralBuild.Engine.Budgets;

/// <summary>A limit on a lossy export's output error as written (<c>MaxOutputError=2%</c>) and as a fraction.</summary>
public sealed record OutputErrorBudget(string Setting, string Text, double Value)
{
    public const string SettingName = "MaxOutputError";

    /// <summary>A budget written as a percentage ("2%", "0.5%") as a fraction; anything else is NM0343.</summary>
    public static double Parse(string text, SourceLocation where) =>
        TryParsePercent(text, double.PositiveInfinity, out var fraction)
            ? fraction
            : throw DiagnosticCodes.InvalidOutputErrorBudget.Exception(where, $"output error budget '{text}': give a percentage of the output's magnitude, such as 2% or 0.5%.");

    /// <summary>"2%", " 0.5% " as a fraction: a finite percentage from 0 to <paramref name="maxPercent"/>; false for anything else.</summary>
    internal static bool TryParsePercent(string text, double maxPercent, out double fraction)
    {
        ArgumentNullException.ThrowIfNull(text);
        var trimmed = text.Trim();
        fraction = 0;
        if (!trimmed.EndsWith('%') || !double.TryParse(trimmed[..^1], NumberStyles.Float, CultureInfo.InvariantCulture, out var percent)
            || !double.IsFinite(percent) || percent < 0 || percent > maxPercent)
        {
            return false;
        }

        fraction = percent / 100;
        return true;
    }

    /// <summary><c>3.125%</c>: an error as a percentage, to three decimals.</summary>
    public static string Percent(double fraction) => BudgetMargin.Percent(fraction, "0.###");
}
