using System.Text.Json;
using NeuralBuild.Engine.Analysis;
using NeuralBuild.Engine.Diagnostics;

namespace NeuralBuild.Engine.Budgets;

/// <summary>
/// <c>dotnet neural check --format json</c>: the optimised model's budgeted metrics, every budget set
/// with its margin, and the verdicts (the diagnostics the text form prints to stderr).
/// </summary>
public static class CheckReport
{
    public const int SchemaVersion = 1;

    public static string Json(ModelMetrics metrics, BudgetSettings settings, IReadOnlyList<Diagnostic> diagnostics)
    {
        ArgumentNullException.ThrowIfNull(metrics);
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(diagnostics);
        return JsonText.Document(SchemaVersion, json =>
        {
            json.WriteString("model", metrics.ModelPath);
            json.WritePropertyName("totals");
            json.WriteStartObject();
            foreach (var metric in BudgetMetric.All)
            {
                json.WriteNumber(metric.Key, metrics.Value(metric));
            }

            json.WriteEndObject();
            json.WritePropertyName("budgets");
            json.WriteStartArray();
            foreach (var (level, budgets) in new[] { ("error", settings.Max), ("warning", settings.Warn) })
            {
                foreach (var metric in BudgetMetric.All)
                {
                    if (budgets.TryGetValue(metric, out var budget))
                    {
                        WriteBudget(json, metric, budget, level, metrics.Value(metric));
                    }
                }
            }

            json.WriteEndArray();
            var errors = diagnostics.Count(d => d.Severity == DiagnosticSeverity.Error);
            json.WriteNumber("errors", errors);
            json.WriteNumber("warnings", diagnostics.Count - errors);
            json.WriteBoolean("passed", errors == 0);
            JsonText.WriteDiagnostics(json, diagnostics);
        });
    }

    private static void WriteBudget(Utf8JsonWriter json, BudgetMetric metric, Budget budget, string level, long value)
    {
        json.WriteStartObject();
        json.WriteString("setting", budget.Setting);
        json.WriteString("text", budget.Text);
        json.WriteString("metric", metric.Key);
        json.WriteString("level", level);
        json.WriteNumber("limit", budget.Value);
        json.WriteNumber("value", value);
        // How much is left (negative: by how much it is exceeded), and the share of the limit used.
        json.WriteNumber("margin", budget.Value - value);
        if (budget.Value > 0)
        {
            json.WriteNumber("used", (double)value / budget.Value);
        }
        else
        {
            json.WriteNull("used");
        }

        json.WriteBoolean("exceeded", value > budget.Value);
        json.WriteEndObject();
    }
}
