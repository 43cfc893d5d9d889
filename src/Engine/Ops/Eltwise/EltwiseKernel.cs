using NeuralBuild.Engine.Execution;

namespace NeuralBuild.Engine.Ops;

/// <summary>
/// Caffe Eltwise (eltwise_layer.cpp, CPU): <c>sum</c> starts from 0 and adds <c>coeff_i * x_i</c> input
/// by input (coefficients default to 1); <c>prod</c> multiplies the inputs in order; <c>max</c> keeps
/// the largest value, the first input winning ties.
/// </summary>
internal sealed class EltwiseKernel : Kernel
{
    public override void Run(KernelContext context)
    {
        var (operation, coeffs) = context.AttributesAs<EltwiseAttributes>();
        var y = context.Output.Data;
        var inputs = new float[context.InputCount][];
        for (var i = 0; i < inputs.Length; i++)
        {
            inputs[i] = context.Input(i).Data;
            if (inputs[i].Length != y.Length)
            {
                throw context.Error($"input {i} holds {inputs[i].Length} values but the output {y.Length}.");
            }
        }

        switch (operation)
        {
            case EltwiseOperation.Sum:
                Array.Clear(y);
                for (var i = 0; i < inputs.Length; i++)
                {
                    var c = coeffs.Length > 0 ? (float)coeffs[i] : 1f;
                    var x = inputs[i];
                    for (var j = 0; j < y.Length; j++)
                    {
                        y[j] += c * x[j];
                    }
                }

                break;
            case EltwiseOperation.Prod:
                inputs[0].AsSpan().CopyTo(y);
                for (var i = 1; i < inputs.Length; i++)
                {
                    var x = inputs[i];
                    for (var j = 0; j < y.Length; j++)
                    {
                        y[j] *= x[j];
                    }
                }

                break;
            case EltwiseOperation.Max:
                inputs[0].AsSpan().CopyTo(y);
                for (var i = 1; i < inputs.Length; i++)
                {
                    var x = inputs[i];
                    for (var j = 0; j < y.Length; j++)
                    {
                        y[j] = x[j] > y[j] ? x[j] : y[j];
                    }
                }

                break;
            default:
                throw context.Unsupported($"eltwise operation '{operation}'");
        }
    }
}
