using System.CommandLine;
using System.Text;
using NeuralBuild.Engine.Budgets;
using NeuralBuild.Engine.Diagnostics;

namespace NeuralBuild.Tool.Commands;

/// <summary>
/// <c>dotnet neural check MODEL [--max-macc 3G] [--warn-…] [--max-…-increase +2%] [--baseline FILE] [--format table|json]</c>:
/// the build's budget and baseline verdicts for one model, with the same codes. Diagnostics go to
/// stderr in the build's form; exit 0 when nothing failed (warnings allowed), 2 on a budget or
/// regression error, 1 on bad input.
/// </summary>
internal static class CheckCommand
{
    public static Command Create()
    {
        var measurement = new ModelMeasurement();
        var baseline = new Option<FileInfo?>("--baseline") { Description = "Baseline file to check regressions against (as NeuralBaselineFile); regressions are not checked without it." };
        var budgets = new BudgetOptions();

        var format = CommonOptions.Format(CommonOptions.TableOrJson);
        var command = new Command("check", "Check a model's optimised metrics against budgets and a baseline, as the build does.");
        measurement.AddTo(command);
        command.Options.Add(baseline);
        command.Options.Add(format);
        budgets.AddTo(command);

        command.SetAction(parse => CommandRunner.Run(parse, () =>
        {
            var configErrors = new List<Diagnostic>();
            var settings = budgets.Parse(parse, configErrors);
            if (configErrors.Count > 0)
            {
                configErrors.ForEach(d => Console.Error.WriteLine(d.ToString()));
                return ExitCodes.Error;
            }

            var version = measurement.Version(parse);
            var metrics = measurement.Measure(parse);
            BaselineContext? context = null;
            if (parse.GetValue(baseline) is { } baselineFile)
            {
                var file = BaselineFile.Load(baselineFile.FullName);
                context = new BaselineContext
                {
                    BaselinePath = baselineFile.FullName,
                    Entry = file.Find(file.KeyFor(metrics.ModelPath)),
                    WarnIfMissing = true,
                    DeclaredVersion = version,
                    AcceptHint = $"'dotnet neural baseline accept {parse.GetValue(measurement.Model)} --baseline {baselineFile} --reason \"…\"'",
                };
            }

            var diagnostics = BudgetEvaluator.Evaluate(metrics, settings, context);
            foreach (var d in diagnostics)
            {
                Console.Error.WriteLine(d.ToString());
            }

            var errors = diagnostics.Count(d => d.Severity == DiagnosticSeverity.Error);
            var warnings = diagnostics.Count - errors;
            if (parse.GetValue(format) == "json")
            {
                Console.Out.Write(CheckReport.Json(metrics, settings, diagnostics));
                return errors > 0 ? ExitCodes.Failure : ExitCodes.Ok;
            }

            Console.Out.WriteLine($"{Path.GetFileName(metrics.ModelPath)}: MACC {BudgetMetric.Macc.Format(metrics.Value(BudgetMetric.Macc))}, params {BudgetMetric.Params.Format(metrics.Value(BudgetMetric.Params))}, weights {BudgetMetric.WeightsSize.Format(metrics.Value(BudgetMetric.WeightsSize))}, peak activation {BudgetMetric.PeakActivation.Format(metrics.Value(BudgetMetric.PeakActivation))}: {errors} error(s), {warnings} warning(s)");
            return errors > 0 ? ExitCodes.Failure : ExitCodes.Ok;
        }));
        return command;
    }

    /// <summary><c>MaxWeightsSizeIncrease</c> → <c>max-weights-size-increase</c>.</summary>
    /// <remarks>A loop, not a regex: every command line builds these options, and loading the
    /// regex engine for it cost each <c>dotnet neural</c> process several milliseconds.</remarks>
    internal static string Kebab(string name)
    {
        var kebab = new StringBuilder(name.Length + 8);
        for (var i = 0; i < name.Length; i++)
        {
            if (char.IsAsciiLetterUpper(name[i]))
            {
                if (i > 0)
                {
                    kebab.Append('-');
                }

                kebab.Append(char.ToLowerInvariant(name[i]));
            }
            else
            {
                kebab.Append(name[i]);
            }
        }

        return kebab.ToString();
    }
}
