using System.Runtime.InteropServices;

namespace NeuralBuild.Engine.Analysis;

/// <summary>
/// How long each value of a run is needed: the last step that reads it. A step is one node as it
/// runs (for the executor, a fused convolution is one step); values that are read after the last
/// step (graph outputs, values a caller asked for) are kept and never die. Peak memory
/// (<see cref="PeakMemory"/>) and the executor's plan both take lifetimes from here, so the memory
/// the report promises is the memory the executor frees.
/// </summary>
public sealed class Liveness
{
    // Per value read, its slot in the two lists: one int dictionary and int lists, rather than a
    // dictionary of a struct (an instantiation every first read would JIT-compile) or two dictionaries.
    private readonly Dictionary<string, int> _slot;
    private readonly List<int> _lastRead;
    private readonly List<int> _readers;
    private readonly HashSet<string> _kept;

    /// <param name="readsPerStep">The values each step reads, in run order (empty names: omitted optional inputs).</param>
    /// <param name="kept">Values read after the last step.</param>
    public Liveness(IEnumerable<IEnumerable<string>> readsPerStep, IEnumerable<string> kept)
    {
        ArgumentNullException.ThrowIfNull(readsPerStep);
        ArgumentNullException.ThrowIfNull(kept);
        _kept = new HashSet<string>(kept, StringComparer.Ordinal);
        // About one value per step: sized once rather than grown (resizing was most of what the analysis allocated here).
        var capacity = readsPerStep.TryGetNonEnumeratedCount(out var steps) ? steps : 0;
        _slot = new Dictionary<string, int>(capacity, StringComparer.Ordinal);
        _lastRead = new List<int>(capacity);
        _readers = new List<int>(capacity);
        var step = 0;
        foreach (var reads in readsPerStep)
        {
            foreach (var value in reads)
            {
                if (value.Length > 0)
                {
                    ref var slot = ref CollectionsMarshal.GetValueRefOrAddDefault(_slot, value, out var known);
                    if (!known)
                    {
                        slot = _lastRead.Count;
                        _lastRead.Add(0);
                        _readers.Add(0);
                    }

                    _lastRead[slot] = step;
                    _readers[slot]++;
                }
            }

            step++;
        }

        Steps = step;
    }

    /// <summary>The number of steps.</summary>
    public int Steps { get; }

    /// <summary>The last step, where kept values are still alive.</summary>
    public int LastStep => Math.Max(Steps - 1, 0);

    /// <summary>True when <paramref name="value"/> is read after the last step.</summary>
    public bool IsKept(string value) => _kept.Contains(value);

    /// <summary>The last step that reads <paramref name="value"/>, or -1 when no step does.</summary>
    public int LastRead(string value) => _slot.TryGetValue(value, out var slot) ? _lastRead[slot] : -1;

    /// <summary>How many reads of <paramref name="value"/> the steps make (a step reading it twice counts twice).</summary>
    public int Readers(string value) => _slot.TryGetValue(value, out var slot) ? _readers[slot] : 0;

    /// <summary>
    /// The last step at which <paramref name="value"/>, written at step <paramref name="written"/>,
    /// still holds memory: its last reader, the step that wrote it when nothing reads it, the last
    /// step when it is kept.
    /// </summary>
    public int AliveUntil(string value, int written) => IsKept(value) ? LastStep : Math.Max(written, LastRead(value));

    /// <summary>True when nothing after step <paramref name="step"/> reads <paramref name="value"/>.</summary>
    public bool IsDeadAfter(string value, int step) => !IsKept(value) && LastRead(value) <= step;
}
