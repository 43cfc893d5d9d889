using NeuralBuild.Engine.Analysis;
using NuGet.Versioning;

namespace NeuralBuild.Engine.Budgets;

/// <summary><c>dotnet neural baseline accept --format json</c>: what was recorded where, each metric before and after (the previous entry's value, null when it had none).</summary>
public static class BaselineAcceptReport
{
    public const int SchemaVersion = 1;

    public static string Json(string baselinePath, string key, BaselineEntry? previous, ModelMetrics metrics, NuGetVersion? version, string reason)
    {
        ArgumentNullException.ThrowIfNull(metrics);
        return JsonText.Document(SchemaVersion, json =>
        {
            json.WriteString("baseline", baselinePath);
            json.WriteString("key", key);
            json.WriteString("model", metrics.ModelPath);
            if (version is null)
            {
                json.WriteNull("modelVersion");
            }
            else
            {
                json.WriteString("modelVersion", version.ToNormalizedString());
            }

            json.WriteString("reason", reason);
            json.WritePropertyName("metrics");
            json.WriteStartArray();
            foreach (var metric in BudgetMetric.All)
            {
                json.WriteStartObject();
                json.WriteString("metric", metric.Key);
                if (previous is not null && previous.Metrics.TryGetValue(metric.Key, out var before))
                {
                    json.WriteNumber("before", before);
                }
                else
                {
                    json.WriteNull("before");
                }

                json.WriteNumber("after", metrics.Value(metric));
                json.WriteEndObject();
            }

            json.WriteEndArray();
        });
    }
}
