using NeuralBuild.Engine.Diagnostics;
using NeuralBuild.Engine.Formats;

namespace NeuralBuild.Engine.Pipeline;

/// <summary>
/// What the top of the tool and of every MSBuild task does with an exception that escaped: a coded
/// error (NM0xxx) stays what it is; a file system failure nobody attributed is NM0072; anything else
/// is a bug in NeuralBuild, NM9000, one line naming the model, with the stack trace kept for the
/// verbose log only.
/// </summary>
public static class InternalErrors
{
    /// <summary>The one-line diagnostic for an exception that escaped.</summary>
    /// <param name="error">What escaped.</param>
    /// <param name="modelPath">The model being processed, if known: where the diagnostic points.</param>
    /// <param name="stackTraceHint">How this host shows the stack trace ("Run with --verbose", "Build with -v:d").</param>
    public static Diagnostic Describe(Exception error, string? modelPath, string stackTraceHint)
    {
        if (error is NeuralException coded)
        {
            return coded.Diagnostic;
        }

        if (FileFailures.IsFileFailure(error))
        {
            return FileFailures.Failed(error, modelPath);
        }

        var where = string.IsNullOrEmpty(modelPath) ? SourceLocation.None : new SourceLocation(modelPath);
        var model = string.IsNullOrEmpty(modelPath) ? string.Empty : $" while processing '{Path.GetFileName(modelPath)}'";
        return DiagnosticCodes.InternalError.At(where,
            $"Internal error in NeuralBuild{model} ({error.GetType().Name}: {error.Message.Trim()}). " +
            $"This is a bug in NeuralBuild, not a problem of your model: please report it with the model file attached. {stackTraceHint} for the stack trace.");
    }

    /// <summary>True when <paramref name="error"/> is a bug (NM9000), whose stack trace is worth keeping.</summary>
    public static bool IsInternal(Exception error) => error is not NeuralException && !FileFailures.IsFileFailure(error);
}
