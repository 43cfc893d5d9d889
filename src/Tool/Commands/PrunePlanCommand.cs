using System.CommandLine;
using NeuralBuild.Engine.Diagnostics;
using NeuralBuild.Engine.Formats;
using NeuralBuild.Engine.Pruning;

namespace NeuralBuild.Tool.Commands;

/// <summary>
/// <c>dotnet neural prune-plan MODEL [--weights W] [--criterion entropy|bn-gamma|l1] [--remove k | --fraction f] [--layers a,b]
/// [--samples N] [--seed S] [--format table|json|md] [-o DIR]</c>: per conv layer, its channels ranked and the
/// least important ones' removal measured without retraining (<see cref="PrunePlanner"/>); with
/// <c>-o</c>, the pruned model in its own format, to fine-tune.
/// </summary>
internal static class PrunePlanCommand
{
    public const string ReportFileName = "prune-plan";

    public static Command Create()
    {
        var defaults = new PrunePlanRequest { DefinitionPath = string.Empty };
        var model = CommonOptions.Model();
        var weights = CommonOptions.Weights();
        var input = CommonOptions.Input();
        var dialect = CommonOptions.Dialect();
        var formatOption = CommonOptions.FormatOption();
        var criterion = new Option<string>("--criterion") { Description = $"How channels are ranked: {string.Join(", ", PrunePlanRequest.CriterionNames)}.", DefaultValueFactory = _ => PrunePlanRequest.NameOf(defaults.Criterion) };
        var remove = new Option<int?>("--remove") { Description = "Channels to remove per conv layer (the least important)." };
        var fraction = new Option<double?>("--fraction") { Description = $"Share of each conv layer's channels to remove, rounded down, at least 1 (default {defaults.Fraction})." };
        var layers = new Option<string?>("--layers") { Description = "Conv layers to plan, comma-separated (node name, layer name or index); default: every conv layer." };
        var samples = new Option<int>("--samples") { Description = "Seeded inputs the activations and the output errors are measured on (without --inputs).", DefaultValueFactory = _ => defaults.Samples };
        var seed = new Option<ulong>("--seed") { Description = "Seed of the first input (the next ones count up).", DefaultValueFactory = _ => defaults.Seed };
        var output = new Option<DirectoryInfo?>("--output", "-o") { Description = "Folder for the pruned (not retrained) model, in the model's own format, and the plan." };
        var format = CommonOptions.Format(PrunePlanFormatter.Formats);
        var command = new Command("prune-plan", "Rank each conv layer's channels and measure, without retraining, what removing the least important saves and costs; optionally write the pruned model.")
        {
            model, weights, input, dialect, formatOption, criterion, remove, fraction, layers, samples, seed, output, format,
        };
        var evaluation = new EvaluationOptions();
        evaluation.AddTo(command, withAgreementBudget: false);
        command.SetAction(parse => CommandRunner.Run(parse, () =>
        {
            if (parse.GetValue(remove) is not null && parse.GetValue(fraction) is not null)
            {
                throw DiagnosticCodes.InvalidPruneOption.Exception(SourceLocation.None, "give --remove or --fraction, not both.");
            }

            var request = new PrunePlanRequest
            {
                DefinitionPath = parse.GetValue(model)!.FullName,
                WeightsPath = parse.GetValue(weights)?.FullName,
                InputShape = CommonOptions.ParseShape(parse.GetValue(input)),
                FormatOptions = CommonOptions.FormatOptions(parse, dialect, formatOption),
                Criterion = PrunePlanRequest.ParseCriterion(parse.GetValue(criterion)!),
                Remove = parse.GetValue(remove),
                Fraction = parse.GetValue(fraction) ?? defaults.Fraction,
                Layers = parse.GetValue(layers)?.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries),
                Samples = parse.GetValue(samples),
                Seed = parse.GetValue(seed),
                Inputs = evaluation.Inputs(parse),
                OutputDirectory = parse.GetValue(output)?.FullName,
            };
            request.Check();
            var style = parse.GetValue(format)!;
            if (request.OutputDirectory is null)
            {
                Console.Out.Write(PrunePlanFormatter.Format(PrunePlanner.Plan(request), style));
                return ExitCodes.Ok;
            }

            using var set = OutputSet.Begin(request.OutputDirectory);
            var plan = PrunePlanner.Plan(request, set);
            var extension = style switch { "json" => ".json", "md" => ".md", _ => ".txt" };
            return ReportText.Publish(set, ReportFileName + extension, PrunePlanFormatter.Format(plan, style), []);
        }));
        return command;
    }
}
