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

    /// <summary>
    /// Each value a step computed, while it is live (before the run frees or overwrites it): a caller
    /// that summarises values (calibration's ranges) reads them here instead of requesting them as
    /// outputs, so the run keeps only what its plan needs. Called before <see cref="StepRan"/>.
    /// </summary>
    void ValueComputed(string name, Tensor value)
    {
    }
}
