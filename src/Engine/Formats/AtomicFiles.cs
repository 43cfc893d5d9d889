namespace NeuralBuild.Engine.Formats;

/// <summary>
/// How every writer puts its files in place: each is written in full to <c>PATH.tmp</c>, and only
/// when all are written are they moved over their final names, in the order given. A failure
/// leaves no temp file and no partial output that could look up to date, and is NM0070 naming the
/// file. Writers write into an <see cref="OutputSet"/>'s staging folder, which replaces the
/// previous output as a whole.
/// </summary>
internal static class AtomicFiles
{
    public static void Write(params ReadOnlySpan<(string Path, Action<string> WriteTo)> files)
    {
        var temps = new string[files.Length];
        var current = string.Empty;
        try
        {
            for (var i = 0; i < files.Length; i++)
            {
                current = files[i].Path;
                temps[i] = files[i].Path + ".tmp";
                files[i].WriteTo(temps[i]);
            }

            for (var i = 0; i < files.Length; i++)
            {
                current = files[i].Path;
                File.Move(temps[i], files[i].Path, overwrite: true);
            }
        }
        catch (Exception e) when (FileFailures.IsFileFailure(e))
        {
            throw FileFailures.CannotWrite(current, e);
        }
        finally
        {
            foreach (var temp in temps.Where(t => t is not null && File.Exists(t)))
            {
                File.Delete(temp);
            }
        }
    }
}
