using System.CommandLine;
using NeuralBuild.Engine.Diagnostics;
using NeuralBuild.Engine.Execution.Profiling;
using NeuralBuild.Engine.Pipeline;

namespace NeuralBuild.Tool.Commands;

/// <summary>
/// <c>dotnet neural profile MODEL [--weights W] [--input …] [--runs N] [--warmup N] [--threads N] [--no-fold] [--format table|json|md]</c>:
/// measured time per layer on the reference executor (<see cref="ModelProfiler"/>), by kind, tensor
/// against non-tensor layers, as read and after folding.
/// </summary>
internal static class ProfileCommand
{
    public static Command Create()
    {
        var defaults = new ProfileOptions();
        var model = CommonOptions.Model();
        var weights = CommonOptions.Weights();
        var input = CommonOptions.Input();
        var dialect = CommonOptions.Dialect();
        var formatOption = CommonOptions.FormatOption();
        var runs = new Option<int>("--runs") { Description = "Measured runs; each layer's time is its median over them.", DefaultValueFactory = _ => defaults.Runs };
        var warmup = new Option<int>("--warmup") { Description = "Unmeasured runs first.", DefaultValueFactory = _ => defaults.Warmup };
        var threads = new Option<int?>("--threads") { Description = "Threads the kernels may use (default: every core)." };
        var noFold = new Option<bool>("--no-fold") { Description = "Profile the model as read only, not also after the folds fuse applies." };
        var format = CommonOptions.Format(ProfileFormatter.Formats);
        var command = new Command("profile", "Measured time per layer on the reference executor, by kind (tensor and non-tensor layers), before and after folding.")
        {
            model, weights, input, dialect, formatOption, runs, warmup, threads, noFold, format,
        };
        command.SetAction(parse => CommandRunner.Run(parse, () =>
        {
            var measurement = new ProfileOptions { Runs = parse.GetValue(runs), Warmup = parse.GetValue(warmup), Threads = parse.GetValue(threads) };
            measurement.Check(new SourceLocation("dotnet-neural"));
            var profile = ModelProfiler.Profile(new ProfileRequest
            {
                DefinitionPath = parse.GetValue(model)!.FullName,
                WeightsPath = parse.GetValue(weights)?.FullName,
                InputShape = CommonOptions.ParseShape(parse.GetValue(input)),
                FormatOptions = CommonOptions.FormatOptions(parse, dialect, formatOption),
                Measurement = measurement,
                Fold = !parse.GetValue(noFold),
            });
            var warnings = ProfileFormatter.Check(profile);
            Console.Out.Write(ProfileFormatter.Format(profile, parse.GetValue(format)!, warnings));
            foreach (var warning in warnings)
            {
                Console.Error.WriteLine(warning.ToString());
            }

            return ExitCodes.Ok;
        }));
        return command;
    }
}
