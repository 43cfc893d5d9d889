using NeuralBuild.Engine.Diagnostics;

namespace NeuralBuild.Engine.Budgets;

/// <summary>An absolute limit as written (<c>MaxMacc=6.5G</c>) and its exact value.</summary>
public sealed record Budget(string Setting, string Text, long Value);

/// <summary>A regression limit as written (<c>MaxMaccIncrease=+2%</c>).</summary>
public sealed record RegressionSetting(string Setting, RegressionLimit Limit);

/// <summary>
/// Every budget and regression limit of one model, parsed from settings looked up by name
/// (<c>MaxMacc</c>, <c>WarnMacc</c>, <c>MaxMaccIncrease</c>, …): the MSBuild task looks up item
/// metadata then the project-wide <c>Neural…</c> property; the tool looks up its options.
/// </summary>
public sealed class BudgetSettings
{
    public Dictionary<BudgetMetric, Budget> Max { get; } = [];

    public Dictionary<BudgetMetric, Budget> Warn { get; } = [];

    public Dictionary<BudgetMetric, RegressionSetting> Increase { get; } = [];

    /// <summary><c>MaxOutputError</c>: the most a lossy (quantized) export's outputs may move, relative to their magnitude.</summary>
    public OutputErrorBudget? MaxOutputError { get; private set; }

    /// <summary><c>MinTop1Agreement</c>: the least share of items whose top-1 class a lossy export keeps, on each classifier output.</summary>
    public Top1AgreementBudget? MinTop1Agreement { get; private set; }

    /// <summary>
    /// Parses the settings <paramref name="lookup"/> returns (null or blank: not set). Each invalid
    /// value adds an NM0060/NM0061 diagnostic at <paramref name="where"/> (the project or command
    /// line) and is left out.
    /// </summary>
    public static BudgetSettings Parse(Func<string, string?> lookup, SourceLocation where, ICollection<Diagnostic> diagnostics)
    {
        var settings = new BudgetSettings();
        foreach (var metric in BudgetMetric.All)
        {
            ParseBudget(metric, metric.MaxSetting, settings.Max);
            ParseBudget(metric, metric.WarnSetting, settings.Warn);
            var text = lookup(metric.IncreaseSetting);
            if (!string.IsNullOrWhiteSpace(text))
            {
                if (RegressionLimit.TryParse(text, metric, out var limit, out var error))
                {
                    settings.Increase[metric] = new RegressionSetting(metric.IncreaseSetting, limit);
                }
                else
                {
                    diagnostics.Add(DiagnosticCodes.InvalidRegressionLimit.At(where, $"{metric.IncreaseSetting}=\"{text}\": {error}."));
                }
            }
        }

        settings.MaxOutputError = ParsePercentage(OutputErrorBudget.SettingName, text => new OutputErrorBudget(OutputErrorBudget.SettingName, text.Trim(), OutputErrorBudget.Parse(text, where)));
        settings.MinTop1Agreement = ParsePercentage(Top1AgreementBudget.SettingName, text => new Top1AgreementBudget(Top1AgreementBudget.SettingName, text.Trim(), Top1AgreementBudget.Parse(text, where)));
        return settings;

        // An accuracy budget given as a percentage; a bad one is its own coded error, and is left out.
        T? ParsePercentage<T>(string setting, Func<string, T> parse)
            where T : class
        {
            var text = lookup(setting);
            if (string.IsNullOrWhiteSpace(text))
            {
                return null;
            }

            try
            {
                return parse(text);
            }
            catch (NeuralException e)
            {
                diagnostics.Add(e.Diagnostic);
                return null;
            }
        }

        void ParseBudget(BudgetMetric metric, string setting, Dictionary<BudgetMetric, Budget> into)
        {
            var text = lookup(setting);
            if (string.IsNullOrWhiteSpace(text))
            {
                return;
            }

            if (Quantity.TryParse(text, metric, out var value, out var error))
            {
                into[metric] = new Budget(setting, text.Trim(), value);
            }
            else
            {
                diagnostics.Add(DiagnosticCodes.InvalidQuantity.At(where, $"{setting}=\"{text}\": {error}."));
            }
        }
    }

    /// <summary>The setting names of the five metrics' budgets and regression limits, for callers that copy them from somewhere (MaxOutputError, which only a lossy export has, is apart).</summary>
    public static IEnumerable<string> SettingNames => BudgetMetric.All.SelectMany(m => new[] { m.MaxSetting, m.WarnSetting, m.IncreaseSetting });
}
