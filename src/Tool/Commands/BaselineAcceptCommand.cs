using System.CommandLine;
using NeuralBuild.Engine.Budgets;
using NeuralBuild.Engine.Diagnostics;

namespace NeuralBuild.Tool.Commands;

/// <summary>
/// <c>dotnet neural baseline accept MODEL --reason "…" [--baseline FILE] [--format table|json]</c>: records the optimised
/// model's current metrics as its accepted baseline (the explicit, reviewed alternative to
/// <c>-p:NeuralUpdateBaseline=true</c>). Other entries and unknown fields of the file are kept.
/// </summary>
internal static class BaselineAcceptCommand
{
    public static Command Create()
    {
        var measurement = new ModelMeasurement();
        var reason = new Option<string>("--reason") { Description = "Why the new figures are accepted (recorded as accepted.why).", Required = true };
        var baseline = new Option<FileInfo>("--baseline")
        {
            Description = "Baseline file (default: neural-baseline.json in the current folder, like the build's default in the project folder).",
            DefaultValueFactory = _ => new FileInfo("neural-baseline.json"),
        };
        var format = CommonOptions.Format(CommonOptions.TableOrJson);
        var accept = new Command("accept", "Record a model's current optimised metrics as its accepted baseline.");
        measurement.AddTo(accept);
        accept.Options.Add(reason);
        accept.Options.Add(baseline);
        accept.Options.Add(format);
        accept.SetAction(parse => CommandRunner.Run(parse, () =>
        {
            var why = parse.GetValue(reason)?.Trim();
            if (string.IsNullOrEmpty(why))
            {
                Console.Error.WriteLine("error: --reason must say why the new figures are acceptable.");
                return ExitCodes.Error;
            }

            var path = parse.GetValue(baseline)!.FullName;
            if (ContinuousIntegration.IsActiveInEnvironment())
            {
                // The build's rule (NM0064), checked before the model is even read.
                Console.Error.WriteLine(ContinuousIntegration.BaselineUpdateRefused(new SourceLocation(path), "dotnet neural baseline accept", path).ToString());
                return ExitCodes.Error;
            }

            var version = measurement.Version(parse);
            var metrics = measurement.Measure(parse);
            var file = BaselineFile.Load(path);
            var key = file.KeyFor(metrics.ModelPath);
            var previous = file.Find(key);
            file.Record(key, metrics, version, why, DateTimeOffset.UtcNow);
            file.Save();
            if (parse.GetValue(format) == "json")
            {
                Console.Out.Write(BaselineAcceptReport.Json(path, key, previous, metrics, version, why));
                return ExitCodes.Ok;
            }

            foreach (var metric in BudgetMetric.All)
            {
                var now = metrics.Value(metric);
                var before = previous is not null && previous.Metrics.TryGetValue(metric.Key, out var b) ? metric.Format(b) + " -> " : string.Empty;
                Console.Out.WriteLine($"{key}: {metric.Key} {before}{metric.Format(now)}");
            }

            Console.Out.WriteLine($"recorded in {path}");
            return ExitCodes.Ok;
        }));

        return new Command("baseline", "Manage the checked-in baseline (neural-baseline.json).") { accept };
    }

}
