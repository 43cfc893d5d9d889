namespace NeuralBuild.Engine.Formats;

/// <summary>
/// Files that are only true together (an optimised definition, its weights, external data, the
/// report or metrics about them), replaced as a unit. Every member is written to a staging folder
/// beside the target folder (same file system, so moving into place is a rename), and
/// <see cref="Commit"/> moves them in only after all were written. A commit that fails puts the
/// previous members back, so the target folder holds either the complete new set or the complete
/// previous one; disposing an uncommitted set deletes its staging folder, leaving the target as it
/// was. Files of the target folder that are not members are never touched.
/// </summary>
public sealed class OutputSet : IDisposable
{
    private const string PreviousFolder = ".previous";
    private bool _committed;

    private OutputSet(string targetDirectory, string stagingDirectory)
    {
        TargetDirectory = targetDirectory;
        StagingDirectory = stagingDirectory;
    }

    /// <summary>The folder the set is committed to (created by <see cref="Commit"/> if missing).</summary>
    public string TargetDirectory { get; }

    /// <summary>Where members are written before the commit: <c>.NAME.staging-XXXX</c> beside the target.</summary>
    public string StagingDirectory { get; }

    /// <summary>For tests: called with each member's final path just before it is moved into place.</summary>
    internal Action<string>? BeforeMove { get; set; }

    public static OutputSet Begin(string targetDirectory)
    {
        var target = Path.TrimEndingDirectorySeparator(Path.GetFullPath(targetDirectory));
        var parent = Path.GetDirectoryName(target) ?? target;
        var staging = Path.Combine(parent, $".{Path.GetFileName(target)}.staging-{Guid.NewGuid().ToString("N")[..12]}");
        try
        {
            Directory.CreateDirectory(staging);
        }
        catch (Exception e) when (FileFailures.IsFileFailure(e))
        {
            throw FileFailures.CannotWrite(staging, e);
        }

        return new OutputSet(target, staging);
    }

    /// <summary>Where the member <paramref name="fileName"/> is written now.</summary>
    public string Stage(string fileName) => Path.Combine(StagingDirectory, fileName);

    /// <summary>Where a staged member will be after the commit.</summary>
    public string Final(string stagedPath) => Path.Combine(TargetDirectory, Path.GetFileName(stagedPath));

    /// <summary>Writes the member <paramref name="fileName"/> (UTF-8, no byte order mark) to the staging folder.</summary>
    public void WriteText(string fileName, string text)
    {
        try
        {
            File.WriteAllText(Stage(fileName), text, new System.Text.UTF8Encoding(encoderShouldEmitUTF8Identifier: false));
        }
        catch (Exception e) when (FileFailures.IsFileFailure(e))
        {
            throw FileFailures.CannotWrite(Path.Combine(TargetDirectory, fileName), e);
        }
    }

    /// <summary>The members written so far (files directly in the staging folder).</summary>
    public IReadOnlyList<string> Staged() =>
        [.. Directory.GetFiles(StagingDirectory).Order(StringComparer.Ordinal)];

    /// <summary>
    /// Moves every member into place, each previous file of the same name set aside first and
    /// restored if any move fails (NM0070 then, naming the path that could not be written).
    /// </summary>
    public void Commit()
    {
        var staged = Staged();
        var finals = staged.Select(Final).ToList();
        // Checked before anything moves: a folder standing where a member goes.
        if (finals.FirstOrDefault(Directory.Exists) is { } blocked)
        {
            throw FileFailures.CannotWrite(blocked, $"a folder has that name. Nothing was replaced: the previous output in '{TargetDirectory}' is unchanged.");
        }

        var previous = Path.Combine(StagingDirectory, PreviousFolder);
        var done = new List<(string Final, string? SetAside, bool Placed)>();
        var current = TargetDirectory;
        try
        {
            Directory.CreateDirectory(TargetDirectory);
            for (var i = 0; i < staged.Count; i++)
            {
                current = finals[i];
                BeforeMove?.Invoke(current);
                string? setAside = null;
                if (File.Exists(current))
                {
                    Directory.CreateDirectory(previous);
                    setAside = Path.Combine(previous, Path.GetFileName(current));
                    File.Move(current, setAside);
                }

                done.Add((current, setAside, false));
                File.Move(staged[i], current);
                done[^1] = (current, setAside, true);
            }
        }
        catch (Exception e)
        {
            Restore(done);
            if (FileFailures.IsFileFailure(e))
            {
                throw FileFailures.CannotWrite(current, $"{e.Message.Trim()} Nothing was replaced: the previous output in '{TargetDirectory}' is unchanged.");
            }

            throw;
        }

        _committed = true;
        DeleteStaging();
    }

    /// <summary>Deletes the staging folder (and, before a commit, everything written to it).</summary>
    public void Dispose()
    {
        if (_committed)
        {
            return;
        }

        try
        {
            DeleteStaging();
        }
        catch (Exception e) when (FileFailures.IsFileFailure(e))
        {
            // Disposing runs while another failure unwinds: that one is the error to report.
        }
    }

    private static void Restore(List<(string Final, string? SetAside, bool Placed)> done)
    {
        for (var i = done.Count - 1; i >= 0; i--)
        {
            var (final, setAside, placed) = done[i];
            if (placed)
            {
                File.Delete(final);
            }

            if (setAside is not null)
            {
                File.Move(setAside, final, overwrite: true);
            }
        }
    }

    private void DeleteStaging()
    {
        if (Directory.Exists(StagingDirectory))
        {
            Directory.Delete(StagingDirectory, recursive: true);
        }
    }
}
