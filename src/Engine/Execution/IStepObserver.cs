using NeuralBuild.Engine.Ir;

namespace NeuralBuild.Engine.Execution;

/// <summary>
/// Told after each step of a <see cref="ReferenceExecutor"/> run how long it took (profiling). A
/// step is one node unless the executor fuses epilogues (<see cref="ExecutionOptions.FuseEpilogues"/>),
/// when a convolution's step also covers its BatchNorm and activation: per-node times need it off.
/// </summary>
public interface IStepObserver
{
    /// <param name="step">The step's place in the run, from 0; the same plan gives the same numbering every run.</param>
    /// <param name="nodes">The nodes the step computed, the first being the one whose kernel ran.</param>
    /// <param name="elapsed">Wall-clock time of the step.</param>
    void StepRan(int step, IReadOnlyList<Node> nodes, TimeSpan elapsed);
}
