using System.Diagnostics;

namespace NeuralBuild.Engine.Pipeline;

/// <summary>
/// Told when each phase of a pipeline run starts and ends, so a host can show where a long run is:
/// the tool's progress line, the build's stage messages.
/// </summary>
public interface IPipelineProgress
{
    void PhaseStarted(string phase);

    void PhaseFinished(string phase, TimeSpan elapsed);
}

/// <summary>Wall time of each phase of a pipeline run, in order, for its report; phases are announced to an optional <see cref="IPipelineProgress"/>.</summary>
internal sealed class PhaseClock(IPipelineProgress? progress)
{
    private readonly Stopwatch _clock = new();
    private readonly List<(string Phase, TimeSpan Time)> _phases = [];
    private string? _current;

    public static PhaseClock Start(string phase, IPipelineProgress? progress)
    {
        var clock = new PhaseClock(progress);
        clock.Next(phase);
        return clock;
    }

    public IReadOnlyList<(string Phase, TimeSpan Time)> Phases => _phases;

    /// <summary>Ends the running phase (if any) and starts <paramref name="phase"/>.</summary>
    public void Next(string phase)
    {
        End();
        _current = phase;
        progress?.PhaseStarted(phase);
        _clock.Restart();
    }

    /// <summary>Ends the running phase; the clock then stands still until the next.</summary>
    public void End()
    {
        if (_current is null)
        {
            return;
        }

        var elapsed = _clock.Elapsed;
        _phases.Add((_current, elapsed));
        progress?.PhaseFinished(_current, elapsed);
        _current = null;
    }
}
