using Microsoft.Build.Framework;
using Microsoft.Build.Utilities;
using NeuralBuild.Engine.Diagnostics;

namespace NeuralBuild.Tasks;

/// <summary>
/// An exclusive lock on one model's output folder, held while it is optimised: a file beside the
/// folder (<c>Yolo.lock</c> beside <c>Yolo/</c>, outside the output set that replaces the folder),
/// opened without sharing, which .NET enforces between processes on every OS. Builds of several
/// target frameworks of one project (in parallel nodes) take turns instead of writing one folder at once.
/// </summary>
internal sealed class OptimizeLock : IDisposable
{
    private static readonly TimeSpan s_retry = TimeSpan.FromMilliseconds(200);

    /// <summary>Longer than any optimisation takes; past it, a lock held is a stuck process, not a build.</summary>
    private static readonly TimeSpan s_patience = TimeSpan.FromMinutes(30);

    private readonly FileStream _file;

    private OptimizeLock(FileStream file) => _file = file;

    /// <summary>Waits for the lock (saying so once, at normal importance) as long as another build holds it.</summary>
    public static OptimizeLock Acquire(string outputDirectory, string definition, TaskLoggingHelper log)
    {
        var path = Path.TrimEndingDirectorySeparator(outputDirectory) + ".lock";
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        var said = false;
        var giveUp = DateTime.UtcNow + s_patience;
        while (true)
        {
            try
            {
                return new OptimizeLock(new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None));
            }
            catch (IOException e) when (File.Exists(path))
            {
                if (DateTime.UtcNow > giveUp)
                {
                    throw DiagnosticCodes.FileOperationFailed.Exception(new SourceLocation(path),
                        $"Could not take '{path}' within {s_patience.TotalMinutes:0} minutes ({e.Message}): another build has held it all that time. If no build is running, delete the file.");
                }

                if (!said)
                {
                    log.Message(MessageImportance.Normal, $"NeuralBuild: {Path.GetFileName(definition)}: waiting for another build optimising it into {outputDirectory}");
                    said = true;
                }

                Thread.Sleep(s_retry);
            }
        }
    }

    public void Dispose() => _file.Dispose();
}
