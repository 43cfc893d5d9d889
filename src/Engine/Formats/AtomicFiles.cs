namespace NeuralBuild.Engine.Formats;

/// <summary>
/// How every writer puts its files in place: each is written in full to <c>PATH.tmp</c>, and only
/// when all are written are they moved over their final names, in the order given. A failure
/// leaves no temp file and no partial output that could look up to date.
/// </summary>
internal static class AtomicFiles
{
    public static void Write(params ReadOnlySpan<(string Path, Action<string> WriteTo)> files)
    {
        var temps = new string[files.Length];
        try
        {
            for (var i = 0; i < files.Length; i++)
            {
                temps[i] = files[i].Path + ".tmp";
                files[i].WriteTo(temps[i]);
            }

            for (var i = 0; i < files.Length; i++)
            {
                File.Move(temps[i], files[i].Path, overwrite: true);
            }
        }
        finally
        {
            foreach (var temp in temps.Where(t => t is not null))
            {
                File.Delete(temp);
            }
        }
    }
}
