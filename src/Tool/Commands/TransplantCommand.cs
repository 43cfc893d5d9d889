using System.CommandLine;
using NeuralBuild.Engine.Formats;
using NeuralBuild.Engine.Surgery;

namespace NeuralBuild.Tool.Commands;

/// <summary>
/// <c>dotnet neural transplant --from OLD_DEF [--from-weights OLD_W] --to NEW_DEF [--to-weights NEW_W] --output DIR [--map map.txt] [--allow-partial] [--seed N] [--dialect …] [--option name=value] [--format table|json]</c>:
/// carries the old model's parameters into the new definition (<see cref="Transplant"/>), writes the
/// new model in its own format and a report of what was copied, taken from NEW_W, initialised or mismatched.
/// </summary>
internal static class TransplantCommand
{
    public const string ReportFileName = "transplant-report";

    public static Command Create()
    {
        var from = new Option<FileInfo>("--from") { Description = $"The trained model whose parameters are carried over: {ModelFormats.DefinitionKinds}.", Required = true };
        var fromWeights = CommonOptions.Weights("--from-weights", "Its weights (default: the definition's base name with the format's weights extension).");
        var to = new Option<FileInfo>("--to") { Description = "The changed definition that receives them; written in its own format.", Required = true };
        var toWeights = CommonOptions.Weights("--to-weights", "The changed model's own weights, for what the old model does not give (default: initialise it as its definition says, seeded).");
        var output = new Option<DirectoryInfo>("--output", "-o") { Description = "Folder for the new model and the transplant report.", Required = true };
        var map = new Option<FileInfo?>("--map") { Description = "Pairs of layers whose names differ, one 'NEW_LAYER OLD_LAYER' a line ('#' comments)." };
        var allowPartial = new Option<bool>("--allow-partial") { Description = "Where paired parameters differ in shape, copy the overlapping channels (reported per layer) instead of nothing." };
        var seed = new Option<int>("--seed") { Description = "Seed of the initialisation of what is neither copied nor given.", DefaultValueFactory = _ => TransplantRequest.DefaultSeed };
        var dialect = CommonOptions.Dialect();
        var formatOption = CommonOptions.FormatOption();
        var format = CommonOptions.Format(CommonOptions.TableOrJson);
        var command = new Command("transplant", "Carry a trained model's parameters into a changed definition: same-named layers with equal shapes are copied bit for bit, the rest initialised.")
        {
            from, fromWeights, to, toWeights, output, map, allowPartial, seed, dialect, formatOption, format,
        };
        command.SetAction(parse => CommandRunner.Run(parse, () =>
        {
            using var set = OutputSet.Begin(parse.GetValue(output)!.FullName);
            var result = Transplant.Run(
                new TransplantRequest
                {
                    FromDefinition = parse.GetValue(from)!.FullName,
                    FromWeights = parse.GetValue(fromWeights)?.FullName,
                    ToDefinition = parse.GetValue(to)!.FullName,
                    ToWeights = parse.GetValue(toWeights)?.FullName,
                    MapPath = parse.GetValue(map)?.FullName,
                    AllowPartial = parse.GetValue(allowPartial),
                    Seed = parse.GetValue(seed),
                    FormatOptions = CommonOptions.FormatOptions(parse, dialect, formatOption),
                },
                set);
            var json = parse.GetValue(format) == "json";
            var report = json ? TransplantReport.Json(result) : TransplantReport.Text(result);
            ReportText.Publish(set, ReportFileName + (json ? ".json" : ".md"), report, result.Warnings);

            return ExitCodes.Ok;
        }));
        return command;
    }
}
