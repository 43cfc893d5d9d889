using System.CommandLine;
using NeuralBuild.Engine.Analysis;
using NeuralBuild.Engine.Formats;
using NeuralBuild.Engine.Ir;

namespace NeuralBuild.Tool.Commands;

/// <summary><c>dotnet neural inspect MODEL [--weights FILE] [--input NxCxHxW] [--format …] [--convention …]</c>.</summary>
internal static class InspectCommand
{
    public static Command Create()
    {
        var model = CommonOptions.Model();
        var weights = new Option<FileInfo?>("--weights") { Description = "Weights file; checked against the definition when given. Not needed for analysis." };
        var input = new Option<string?>("--input") { Description = "Input shape N x C x H x W, e.g. 1x3x416x416 (default: the model's own, batch 1)." };
        var format = CommonOptions.Format(ReportFormatter.Formats);
        var convention = CommonOptions.Convention();

        var command = new Command("inspect", "Per-layer parameters, MACC, FLOPs, memory access and activation memory of a model.")
        {
            model, weights, input, format, convention,
        };
        command.SetAction(parse => CommandRunner.Run(parse, () =>
        {
            var options = new ModelReadOptions
            {
                WeightsPath = parse.GetValue(weights)?.FullName,
                InputShape = parse.GetValue(input) is { } text ? Shape.Parse(text) : null,
            };
            var conventionValue = CountingConvention.Get(parse.GetValue(convention)!);
            var path = parse.GetValue(model)!;
            var loaded = ModelFormats.Read(path.ToString(), options);
            var report = CostModel.Analyze(loaded, conventionValue);
            Console.Out.Write(ReportFormatter.Format(report, parse.GetValue(format)!));
            return ExitCodes.Ok;
        }));
        return command;
    }
}
