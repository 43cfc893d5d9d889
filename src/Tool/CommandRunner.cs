using NeuralBuild.Engine.Diagnostics;

namespace NeuralBuild.Tool;

/// <summary>
/// Runs a command body and turns a coded engine error into its one-line diagnostic on stderr and
/// exit code 1: people see <c>yolo.cfg(12,8): error NM0013: …</c>, never a stack trace. A failed
/// verification (NM0041) is exit code 2, as a budget failure is: the input was fine, the result is not.
/// </summary>
internal static class CommandRunner
{
    public static int Run(Func<int> body)
    {
        try
        {
            return body();
        }
        catch (NeuralException e)
        {
            Console.Error.WriteLine(e.Diagnostic.ToString());
            return e.Code == DiagnosticCodes.VerificationFailed.Code ? ExitCodes.Failure : ExitCodes.Error;
        }
        catch (IOException e)
        {
            Console.Error.WriteLine($"error: {e.Message}");
            return ExitCodes.Error;
        }
        catch (UnauthorizedAccessException e)
        {
            Console.Error.WriteLine($"error: {e.Message}");
            return ExitCodes.Error;
        }
    }
}
