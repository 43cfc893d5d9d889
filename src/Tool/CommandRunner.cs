using System.CommandLine;
using System.CommandLine.Parsing;
using NeuralBuild.Engine.Diagnostics;
using NeuralBuild.Engine.Pipeline;

namespace NeuralBuild.Tool;

/// <summary>
/// Runs a command body and turns whatever escapes it into one diagnostic line on stderr: a coded
/// engine error as it is (<c>yolo.cfg(12,8): error NM0013: …</c>, exit 1; a failed verification,
/// NM0041, or a lossy export over its output error budget, NM1010, is exit 2 as a budget failure is: the input was fine, the result is not), a file system
/// failure as NM0072 (exit 1), and anything else as the internal error NM9000 naming the model
/// (exit 3), whose stack trace only <c>--verbose</c> prints. People never see a bare stack trace.
/// </summary>
internal static class CommandRunner
{
    /// <summary>The global <c>--verbose</c>: stack traces of internal errors.</summary>
    public static Option<bool> Verbose { get; } = new("--verbose") { Description = "Print the stack trace of an internal error (NM9000).", Recursive = true };

    public static int Run(ParseResult parse, Func<int> body) => Run(parse, body, Console.Error);

    internal static int Run(ParseResult parse, Func<int> body, TextWriter stderr)
    {
        try
        {
            return body();
        }
        catch (Exception e)
        {
            return Report(e, ModelArgument(parse), parse.GetValue(Verbose), stderr);
        }
    }

    /// <summary>Prints <paramref name="error"/> as its one diagnostic line (and with <paramref name="verbose"/> an internal error's stack) and returns the exit code.</summary>
    internal static int Report(Exception error, string? modelPath, bool verbose, TextWriter stderr)
    {
        var diagnostic = InternalErrors.Describe(error, modelPath, "Run with --verbose");
        stderr.WriteLine(diagnostic.ToString());
        if (!InternalErrors.IsInternal(error))
        {
            return diagnostic.Code == DiagnosticCodes.VerificationFailed.Code || diagnostic.Code == DiagnosticCodes.OutputErrorBudgetExceeded.Code
                || diagnostic.Code == DiagnosticCodes.Top1AgreementBelowBudget.Code ? ExitCodes.Failure : ExitCodes.Error;
        }

        if (verbose)
        {
            stderr.WriteLine(error.ToString());
        }

        return ExitCodes.InternalError;
    }

    /// <summary>The command's first argument (every command's first is its model), as a full path.</summary>
    private static string? ModelArgument(ParseResult parse)
    {
        var tokens = parse.CommandResult.Children.OfType<ArgumentResult>().FirstOrDefault()?.Tokens;
        var text = tokens is { Count: > 0 } ? tokens[0].Value : null;
        return string.IsNullOrWhiteSpace(text) ? null : Path.GetFullPath(text);
    }
}
