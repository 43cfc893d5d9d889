using System.CommandLine;
using System.Text;
using NeuralBuild.Engine.Analysis;
using NeuralBuild.Engine.Budgets;
using NeuralBuild.Engine.Diagnostics;
using NeuralBuild.Engine.Execution.Profiling;
using NeuralBuild.Engine.Formats;
using NeuralBuild.Engine.Pipeline;
using NeuralBuild.Engine.Reporting;

namespace NeuralBuild.Tool.Commands;

/// <summary>
/// <c>dotnet neural report MODEL --output R.html [--weights W] [--input …] [--dialect …] [--fold [--verify …]] [--profile] [--baseline FILE] [--max-macc 3G …]</c>:
/// one self-contained HTML file (<see cref="HtmlReport"/>): the graph, per-layer charts, totals
/// against the budgets and baseline given; with <c>--fold</c> the model optimised as <c>fuse</c>
/// optimises it (nothing written but the report) beside the model as read, with the folds and the
/// verification's errors. A report, not a check: budgets over their limit are shown, exit 0.
/// </summary>
internal static class ReportCommand
{
    public static Command Create()
    {
        var model = CommonOptions.Model();
        var output = new Option<FileInfo>("--output", "-o") { Description = "The HTML file to write.", Required = true };
        var weights = CommonOptions.Weights(description: "Weights file. Needed with --fold and --profile (default then: the definition's base name with the format's weights extension); otherwise checked against the definition when given.");
        var input = CommonOptions.Input();
        var dialect = CommonOptions.Dialect();
        var formatOption = CommonOptions.FormatOption();
        var fold = new Option<bool>("--fold") { Description = "Also optimise the model as fuse does (in memory; nothing but the report is written) and show it beside the model as read: the folds applied and refused, the verification's errors." };
        var verify = CommonOptions.Verify(VerifyMode.Layers);
        var profile = new Option<bool>("--profile") { Description = "Also measure the time of each layer on the reference executor (as profile does with its defaults; after folding too with --fold)." };
        var baseline = new Option<FileInfo?>("--baseline") { Description = "Baseline file whose figures for this model are shown beside the current ones." };
        var budgets = new BudgetOptions();
        var command = new Command("report", "Write one self-contained HTML report of a model: the graph, per-layer charts, budgets and baseline, and with --fold the model before and after folding.")
        {
            model, output, weights, input, dialect, formatOption, fold, verify, profile, baseline,
        };
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

            var definition = parse.GetValue(model)!;
            var inputShape = CommonOptions.ParseShape(parse.GetValue(input));
            var formatOptions = CommonOptions.FormatOptions(parse, dialect, formatOption);
            IReadOnlyList<Diagnostic> warnings = [];
            HtmlReportInput report;
            if (parse.GetValue(fold))
            {
                var result = ModelMeasurement.OptimizeDiscardingOutput(outputDirectory => new OptimizeRequest
                {
                    DefinitionPath = definition.FullName,
                    WeightsPath = parse.GetValue(weights)?.FullName,
                    InputShape = inputShape,
                    FormatOptions = formatOptions,
                    Verify = parse.GetValue(verify),
                    OutputDirectory = outputDirectory,
                });
                warnings = result.Warnings;
                report = new HtmlReportInput { Model = result.Before, Optimized = OptimizedModel.From(result) };
            }
            else
            {
                var options = CommonOptions.ReadOptions(parse, definition, parse.GetValue(weights), weightsByConvention: false, parse.GetValue(input), dialect, formatOption);
                report = new HtmlReportInput { Model = CostModel.Analyze(ModelFormats.Read(definition.FullName, options)) };
            }

            BaselineFile? baselineFile = parse.GetValue(baseline) is { } baselinePath ? BaselineFile.Load(baselinePath.FullName) : null;
            report = report with
            {
                Budgets = settings,
                Baseline = baselineFile?.Find(baselineFile.KeyFor(definition.FullName)),
                BaselinePath = baselineFile?.Path,
                Generator = "dotnet neural report",
                Profile = parse.GetValue(profile)
                    ? ModelProfiler.Profile(new ProfileRequest
                    {
                        DefinitionPath = definition.FullName,
                        WeightsPath = parse.GetValue(weights)?.FullName,
                        InputShape = inputShape,
                        FormatOptions = formatOptions,
                        Measurement = new ProfileOptions(),
                        Fold = parse.GetValue(fold),
                    })
                    : null,
            };

            var target = parse.GetValue(output)!;
            target.Directory?.Create();
            File.WriteAllText(target.FullName, HtmlReport.Render(report), new UTF8Encoding(encoderShouldEmitUTF8Identifier: false));
            Console.Out.WriteLine($"{target.FullName}: {report.Model.Layers.Count} layers{(report.Optimized is null ? string.Empty : $", {report.Optimized.Passes.Applied.Count()} fold(s) applied")}");
            foreach (var warning in warnings)
            {
                Console.Error.WriteLine(warning.ToString());
            }

            return ExitCodes.Ok;
        }));
        return command;
    }
}
