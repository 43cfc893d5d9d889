using System.CommandLine;
using NeuralBuild.Engine.Analysis;
using NeuralBuild.Engine.Budgets;
using NeuralBuild.Engine.Diagnostics;
using NeuralBuild.Engine.Formats;

namespace NeuralBuild.Tool.Commands;

/// <summary>
/// <c>dotnet neural diff A B [--weights-a W] [--weights-b W] [--input …] [--format table|json|md|html] [--max-macc-increase +2%] …</c>:
/// two models compared layer by layer (<see cref="ModelDiff"/>), with every figure's change, added
/// and removed layers, and totals. Exit 2 when the second model grew beyond a budget of change
/// (NM1005, the check command's regression-limit options and grammar), 1 on bad input.
/// </summary>
internal static class DiffCommand
{
    public static Command Create()
    {
        var first = new Argument<FileInfo>("first") { Description = $"The first model (the one before the change): {ModelFormats.DefinitionKinds}." };
        var second = new Argument<FileInfo>("second") { Description = "The second model (after the change, or the optimised form of the first)." };
        var weightsA = CommonOptions.Weights("--weights-a", "Weights of the first model; checked against its definition when given. Not needed for the figures.");
        var weightsB = CommonOptions.Weights("--weights-b", "Weights of the second model; checked against its definition when given.");
        var input = CommonOptions.Input();
        var inputA = new Option<string?>("--input-a") { Description = "Input shape of the first model only (overrides --input)." };
        var inputB = new Option<string?>("--input-b") { Description = "Input shape of the second model only (overrides --input)." };
        var dialect = CommonOptions.Dialect();
        var formatOption = CommonOptions.FormatOption();
        var format = CommonOptions.Format(DiffFormatter.Formats);
        var convention = CommonOptions.Convention();
        var limits = BudgetMetric.All.ToDictionary(
            m => m.IncreaseSetting,
            m => new Option<string?>("--" + CheckCommand.Kebab(m.IncreaseSetting)) { Description = $"How much the second model's {m.Label} may exceed the first's: +2% or an amount such as +{(m.Kind == QuantityKind.Bytes ? "1MiB" : "200M")} (exit 2 beyond it)." });

        var command = new Command("diff", "Compare two models layer by layer: every figure's change, added and removed layers, totals; exit 2 beyond a budget of change.")
        {
            first, second, weightsA, weightsB, input, inputA, inputB, dialect, formatOption, format, convention,
        };
        foreach (var option in limits.Values)
        {
            command.Options.Add(option);
        }

        command.SetAction(parse => CommandRunner.Run(parse, () =>
        {
            var configErrors = new List<Diagnostic>();
            var settings = BudgetSettings.Parse(name => limits.TryGetValue(name, out var o) ? parse.GetValue(o) : null, new SourceLocation("dotnet-neural"), configErrors);
            if (configErrors.Count > 0)
            {
                configErrors.ForEach(d => Console.Error.WriteLine(d.ToString()));
                return ExitCodes.Error;
            }

            var countingConvention = CountingConvention.Get(parse.GetValue(convention)!);
            ModelReport Analyze(FileInfo definition, Option<FileInfo?> weights, Option<string?> ownInput)
            {
                var options = CommonOptions.ReadOptions(parse, definition, parse.GetValue(weights), weightsByConvention: false, parse.GetValue(ownInput) ?? parse.GetValue(input), dialect, formatOption);
                return CostModel.Analyze(ModelFormats.Read(definition.FullName, options), countingConvention);
            }

            var diff = ModelDiff.Compare(Analyze(parse.GetValue(first)!, weightsA, inputA), Analyze(parse.GetValue(second)!, weightsB, inputB));
            var verdicts = ChangeBudgets.Evaluate(diff, settings);
            var warnings = diff.AnyMatched || diff.Before.Layers.Count == 0 || diff.After.Layers.Count == 0
                ? []
                : new[]
                {
                    DiagnosticCodes.NoLayersMatched.At(new SourceLocation(diff.After.ModelPath),
                        $"no layer of '{Path.GetFileName(diff.After.ModelPath)}' has the name and kind, or the kind at the same place, of a layer of '{Path.GetFileName(diff.Before.ModelPath)}': every layer is listed as removed and added. Check that the two files are versions of one model."),
                };
            Console.Out.Write(DiffFormatter.Format(diff, parse.GetValue(format)!, [.. warnings, .. verdicts]));
            foreach (var d in warnings.Concat(verdicts))
            {
                Console.Error.WriteLine(d.ToString());
            }

            return verdicts.Count > 0 ? ExitCodes.Failure : ExitCodes.Ok;
        }));
        return command;
    }
}
