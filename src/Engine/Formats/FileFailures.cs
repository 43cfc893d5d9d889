using NeuralBuild.Engine.Diagnostics;

namespace NeuralBuild.Engine.Formats;

/// <summary>
/// The boundary where the operating system's refusals (permission denied, a folder where a file
/// should be, a full disk) become coded errors naming the path and quoting the reason: NM0071 for
/// reading a model, NM0070 for writing an output, NM0072 for any other file.
/// </summary>
public static class FileFailures
{
    /// <summary>What the file system throws; a <see cref="NeuralException"/> is never one.</summary>
    public static bool IsFileFailure(Exception e) => e is IOException or UnauthorizedAccessException;

    /// <summary>Runs a read of <paramref name="path"/> (and whatever it references), turning a file failure into NM0071.</summary>
    public static T Reading<T>(string path, Func<T> read)
    {
        try
        {
            return read();
        }
        catch (Exception e) when (IsFileFailure(e))
        {
            throw CannotRead(path, e);
        }
    }

    public static NeuralException CannotRead(string path, Exception e) =>
        DiagnosticCodes.CannotReadFile.Exception(new SourceLocation(path), $"Cannot read '{path}': {Reason(e)}");

    public static NeuralException CannotWrite(string path, string reason) =>
        DiagnosticCodes.CannotWriteOutput.Exception(new SourceLocation(path), $"Cannot write '{path}': {reason}");

    public static NeuralException CannotWrite(string path, Exception e) => CannotWrite(path, Reason(e));

    /// <summary>A failure at the top of the tool or a task, where it is not known whether a model was being read or an output written.</summary>
    public static Diagnostic Failed(Exception e, string? path) =>
        DiagnosticCodes.FileOperationFailed.At(path is null ? SourceLocation.None : new SourceLocation(path), Reason(e));

    /// <summary>The operating system's words; .NET's messages already quote the path they are about.</summary>
    private static string Reason(Exception e) => e.Message.Trim();
}
