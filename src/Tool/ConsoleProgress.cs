using System.Globalization;
using NeuralBuild.Engine.Pipeline;

namespace NeuralBuild.Tool;

/// <summary>
/// The tool's progress on stderr: a phase that is still running after <see cref="Delay"/> is
/// announced (<c>verify…</c>), and when it ends its time is given (<c>verify: 4.2 s</c>). Phases
/// shorter than that print nothing, so a quick command stays silent. Only when stderr is a terminal
/// (<see cref="ForConsole"/>): a redirected stderr carries the diagnostics and nothing else.
/// </summary>
internal sealed class ConsoleProgress : IPipelineProgress, IDisposable
{
    private readonly TextWriter _writer;
    private readonly string _prefix;
    private readonly Lock _lock = new();
    private Timer? _timer;
    private bool _announced;

    public ConsoleProgress(TextWriter writer, string modelPath, TimeSpan delay)
    {
        _writer = writer;
        _prefix = Path.GetFileName(modelPath) + ": ";
        Delay = delay;
    }

    public TimeSpan Delay { get; }

    /// <summary>Progress on the console's stderr, or null when stderr is redirected.</summary>
    public static ConsoleProgress? ForConsole(string modelPath) =>
        Console.IsErrorRedirected ? null : new ConsoleProgress(Console.Error, modelPath, TimeSpan.FromSeconds(1));

    public void PhaseStarted(string phase)
    {
        lock (_lock)
        {
            _announced = false;
            _timer?.Dispose();
            _timer = new Timer(_ => Announce(phase), null, Delay, Timeout.InfiniteTimeSpan);
        }
    }

    public void PhaseFinished(string phase, TimeSpan elapsed)
    {
        lock (_lock)
        {
            _timer?.Dispose();
            _timer = null;
            if (_announced)
            {
                _writer.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{_prefix}{phase}: {elapsed.TotalSeconds:0.0} s"));
            }

            _announced = false;
        }
    }

    public void Dispose()
    {
        lock (_lock)
        {
            _timer?.Dispose();
            _timer = null;
        }
    }

    private void Announce(string phase)
    {
        lock (_lock)
        {
            // A timer that fired as its phase ended finds itself replaced: say nothing.
            if (_timer is null || _announced)
            {
                return;
            }

            _announced = true;
            _writer.WriteLine($"{_prefix}{phase}…");
        }
    }
}
