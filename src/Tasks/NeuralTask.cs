using Microsoft.Build.Framework;
using NeuralBuild.Engine.Pipeline;

namespace NeuralBuild.Tasks;

/// <summary>
/// What every NeuralBuild task shares: its work (<see cref="Run"/>) reports coded diagnostics
/// itself, and whatever escapes it is reported here as one coded error, never as MSBuild's stack
/// trace: a file system failure as NM0072, anything else as the internal error NM9000 naming the
/// model being processed, with the stack trace logged at low importance (shown at <c>-v:d</c>).
/// </summary>
public abstract class NeuralTask : Microsoft.Build.Utilities.Task
{
    /// <summary>The model file being processed: where an internal error points (the project when none).</summary>
    protected string? CurrentModel { get; set; }

    public sealed override bool Execute()
    {
        try
        {
            Run();
        }
        catch (Exception e)
        {
            var diagnostic = InternalErrors.Describe(e, CurrentModel, "Build with -v:d");
            Log.Log(CurrentModel is null && BuildEngine?.ProjectFileOfTaskNode is { } project
                ? diagnostic with { Location = new Engine.Diagnostics.SourceLocation(project) }
                : diagnostic);
            if (InternalErrors.IsInternal(e))
            {
                Log.Message(MessageImportance.Low, $"NeuralBuild internal error, stack trace: {e}");
            }
        }

        return !Log.HasLoggedErrors;
    }

    /// <summary>The task's work; it logs its own diagnostics (success is having logged no error).</summary>
    protected abstract void Run();
}
