using System.CommandLine;
using System.Globalization;
using NeuralBuild.Engine.Formats;
using NeuralBuild.Engine.Pipeline;

namespace NeuralBuild.Tool.Commands;

/// <summary>
/// <c>dotnet neural verify ORIGINAL OPTIMISED [--weights …] [--optimised-weights …] [--format table|json]</c>: runs both
/// models on the same seeded input and reports the error of every output and every layer they
/// share. Exit code 2 when any comparison is over tolerance and over its rounding floor
/// (<see cref="Verifier.VerifyModels"/>).
/// </summary>
internal static class VerifyCommand
{
    public static Command Create()
    {
        var original = new Argument<FileInfo>("original") { Description = "The original model definition." };
        var optimised = new Argument<FileInfo>("optimised") { Description = "The optimised model definition." };
        var weights = CommonOptions.Weights("--weights", "Weights of the original (default: next to it, same base name).");
        var optimisedWeights = CommonOptions.Weights("--optimised-weights", "Weights of the optimised model (default: next to it, same base name).");
        var input = CommonOptions.Input();
        var dialect = CommonOptions.Dialect();
        var formatOption = CommonOptions.FormatOption();
        var atol = CommonOptions.AbsoluteTolerance();
        var rtol = CommonOptions.RelativeTolerance();
        var all = new Option<bool>("--all") { Description = "List every comparison, not only the outputs and the five worst layers." };
        var format = CommonOptions.Format(CommonOptions.TableOrJson);
        var command = new Command("verify", "Run the original and the optimised model on the same input and compare their outputs.")
        {
            original, optimised, weights, optimisedWeights, input, dialect, formatOption, atol, rtol, all, format,
        };
        command.SetAction(parse => CommandRunner.Run(parse, () =>
        {
            ModelReadOptions Options(FileInfo definition, FileInfo? explicitWeights) =>
                CommonOptions.ReadOptions(parse, definition, explicitWeights, weightsByConvention: true, parse.GetValue(input), dialect, formatOption);

            var a = parse.GetValue(original)!;
            var b = parse.GetValue(optimised)!;
            var report = Verifier.VerifyModels(
                ModelFormats.Read(a.FullName, Options(a, parse.GetValue(weights))),
                ModelFormats.Read(b.FullName, Options(b, parse.GetValue(optimisedWeights))),
                parse.GetValue(atol),
                parse.GetValue(rtol));

            if (parse.GetValue(format) == "json")
            {
                // Every comparison: a program reading the JSON picks its own.
                Console.Out.Write(VerificationJson.Write(a.FullName, b.FullName, report));
                return report.Passed ? ExitCodes.Ok : ExitCodes.Failure;
            }

            var shown = parse.GetValue(all)
                ? report.Comparisons
                : report.Comparisons.Where(c => c.Subject == "model output")
                    .Concat(report.Comparisons.Where(c => c.Subject != "model output").OrderByDescending(c => c.WorstExcess).Take(5))
                    .ToList();
            foreach (var c in shown)
            {
                var floor = c.RoundingFloor is { } f ? string.Create(CultureInfo.InvariantCulture, $", rounding floor {f:G3} ({c.MaxAbsoluteError / f:G3}x, limit {c.FloorFactor:G3}x)") : string.Empty;
                Console.Out.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"{(c.Passed ? "ok  " : "FAIL")} {c.Subject} {c.Output}: {c.Elements} values, max abs {c.MaxAbsoluteError:G3}, max rel {c.MaxRelativeError:G3}{floor}"));
            }

            Console.Out.WriteLine(report.Summary());
            return report.Passed ? ExitCodes.Ok : ExitCodes.Failure;
        }));
        return command;
    }
}
