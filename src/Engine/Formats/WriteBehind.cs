using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace NeuralBuild.Engine.Formats;

/// <summary>
/// Starts the kernel's writeback of a file's completed ranges on a second thread while the writer
/// produces the rest (Linux <c>sync_file_range(SYNC_FILE_RANGE_WRITE)</c>: asynchronous, no wait
/// for the disk, nothing made durable that would not be anyway). Without it ext4 does all of that
/// work at once, on the writer's thread, when the temp file is closed or renamed over the old
/// output (its replace-by-rename heuristic). Allocation still happens at writeback, so ext4's
/// ordered-data guarantee for the rename is unchanged. The thread starts with the first full step
/// (small files never start it); a no-op off Linux, and after the first refusal.
/// </summary>
internal sealed partial class WriteBehind : IDisposable
{
    private const uint SyncFileRangeWrite = 2;

    /// <summary>Ranges handed over at a time: large enough that the calls cost nothing.</summary>
    private const long Step = 8 << 20;

    private readonly SafeFileHandle _handle;
    private readonly object _gate = new();
    private Thread? _thread;
    private long _completed;
    private long _started;
    private bool _finished;

    public WriteBehind(SafeFileHandle handle) => _handle = handle;

    /// <summary>Bytes <c>[0, position)</c> are written and will not change.</summary>
    public void Completed(long position)
    {
        if (!OperatingSystem.IsLinux() || position - Volatile.Read(ref _started) < Step)
        {
            return;
        }

        lock (_gate)
        {
            _completed = Math.Max(_completed, position);
            if (_thread is null)
            {
                _thread = new Thread(Run) { IsBackground = true, Name = "NeuralBuild write-behind" };
                _thread.Start();
            }

            Monitor.Pulse(_gate);
        }
    }

    /// <summary>Waits for the ranges already handed over; the file's tail is left to close.</summary>
    public void Dispose()
    {
        Thread? thread;
        lock (_gate)
        {
            _finished = true;
            thread = _thread;
            Monitor.Pulse(_gate);
        }

        thread?.Join();
    }

    private void Run()
    {
        var added = false;
        try
        {
            _handle.DangerousAddRef(ref added);
            var fd = (int)_handle.DangerousGetHandle();
            while (true)
            {
                long from, to;
                lock (_gate)
                {
                    while (!_finished && _completed == _started)
                    {
                        Monitor.Wait(_gate);
                    }

                    if (_completed == _started)
                    {
                        return;
                    }

                    (from, to) = (_started, _completed);
                }

                if (SyncFileRange(fd, from, to - from, SyncFileRangeWrite) != 0)
                {
                    return; // not supported here (or failed): close does it all, as without this class.
                }

                lock (_gate)
                {
                    _started = to;
                }
            }
        }
        catch (EntryPointNotFoundException)
        {
        }
        catch (DllNotFoundException)
        {
        }
        finally
        {
            if (added)
            {
                _handle.DangerousRelease();
            }
        }
    }

    [LibraryImport("libc", EntryPoint = "sync_file_range")]
    private static partial int SyncFileRange(int fd, long offset, long count, uint flags);
}
