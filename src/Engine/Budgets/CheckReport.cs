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
            foreach (var margin in BudgetMargin.Of(metrics, settings))
            {
                WriteBudget(json, margin);
            }

            json.WriteEndArray();
            var errors = diagnostics.Count(d => d.Severity == DiagnosticSeverity.Error);
            json.WriteNumber("errors", errors);
            json.WriteNumber("warnings", diagnostics.Count - errors);
            json.WriteBoolean("passed", errors == 0);
            JsonText.WriteDiagnostics(json, diagnostics);
        });
    }

    private static void WriteBudget(Utf8JsonWriter json, BudgetMargin margin)
    {
        json.WriteStartObject();
        json.WriteString("setting", margin.Budget.Setting);
        json.WriteString("text", margin.Budget.Text);
        json.WriteString("metric", margin.Metric.Key);
        json.WriteString("level", margin.Level == DiagnosticSeverity.Error ? "error" : "warning");
        json.WriteNumber("limit", margin.Budget.Value);
        json.WriteNumber("value", margin.Value);
        // How much is left (negative: by how much it is exceeded), and the share of the limit used.
        json.WriteNumber("margin", margin.Margin);
        if (margin.Used is { } used)
        {
            json.WriteNumber("used", used);
        }
        else
        {
            json.WriteNull("used");
        }

        json.WriteBoolean("exceeded", margin.Exceeded);
        json.WriteEndObject();
    }
}
