using System.Diagnostics;

namespace NeuralBuild.Engine.Pipeline;

/// <summary>Wall time of each phase of a pipeline run, in order, for its report.</summary>
internal sealed class PhaseClock
{
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private readonly List<(string Phase, TimeSpan Time)> _phases = [];

    public static PhaseClock Start() => new();

    public IReadOnlyList<(string Phase, TimeSpan Time)> Phases => _phases;

    /// <summary>Ends the phase running since the last lap (or the start) and names it.</summary>
    public void Lap(string phase)
    {
        _phases.Add((phase, _clock.Elapsed));
        _clock.Restart();
    }
}
