using NeuralBuild.Engine.Diagnostics;
using NeuralBuild.Engine.Formats.Onnx.Proto;
using NeuralBuild.Engine.Ops;
using static NeuralBuild.Engine.Formats.Onnx.Export.OnnxExportGraph;

namespace NeuralBuild.Engine.Formats.Onnx.Export;

/// <summary>Lowerings of the weighted layers: convolution, transposed convolution, fully connected, matrix product.</summary>
internal static class OnnxConvLowering
{
    /// <summary>
    /// Conv → Conv (pads top, left, bottom, right are ONNX's begin/end order). Darknet's xnor=1 as its
    /// kernel computes it: the input's signs (Where(x &gt; 0, 1, -1); the padding stays 0, as in
    /// darknet's im2col) convolved with the binarised filters (<see cref="BinarizedFilters"/>). A
    /// binarised depthwise convolution, which the engine does not run either, is refused (NM0302).
    /// </summary>
    public static void Conv(OnnxLoweringContext c)
    {
        var attributes = c.Node.AttributesAs<ConvAttributes>();
        if (!attributes.Xnor)
        {
            OnnxActivationQuantizer.Output(c, c.Emit("Conv", Inputs(c, weightAxis: 0), WindowAttributes(attributes.Window, attributes.Group), OnnxActivationQuantizer.OutputInto(c)));
            return;
        }

        var w = c.InputShape(1);
        if (w[1] == 1 && attributes.Group > 1)
        {
            throw c.Refuse(DiagnosticCodes.ExportBinaryConvolution,
                "xnor=1 on a depthwise convolution: darknet's binary forward is not defined for it and the engine does not run it, so there is nothing exact to export.");
        }

        var weight = c.Weight(1) ?? throw c.Refuse(DiagnosticCodes.ExportNotExpressible, "the weights of an xnor convolution are computed, where the export binarises constants.");
        var signs = c.Where(c.Binary("Greater", c.Input(0), c.Scalar("zero", 0f)), c.Scalar("plus_one", 1f), c.Scalar("minus_one", -1f));
        var binarized = c.DerivedWeight("binarized", new BinarizedFilters(weight.Data!, w[1] * w[2] * w[3]), w);
        List<string> inputs = [signs, binarized];
        if (c.HasInput(2))
        {
            inputs.Add(c.Input(2));
        }

        c.Emit("Conv", inputs, WindowAttributes(attributes.Window, attributes.Group), c.Output());
    }

    /// <summary>ConvTranspose → ConvTranspose: the same window rule (out = s*(in-1) + d*(k-1) + 1 - pads) and weight layout (Cin, Cout/g, kh, kw).</summary>
    public static void ConvTranspose(OnnxLoweringContext c)
    {
        var attributes = c.Node.AttributesAs<ConvAttributes>();
        // Weights (Cin, Cout/g, kh, kw): quantized along axis 1, so with groups one scale serves output channel j of every group.
        OnnxActivationQuantizer.Output(c, c.Emit("ConvTranspose", Inputs(c, weightAxis: 1), WindowAttributes(attributes.Window, attributes.Group), OnnxActivationQuantizer.OutputInto(c)));
    }

    /// <summary>
    /// FullyConnected → Flatten (axis 1) → Gemm (transB unless the weights are stored inputs x outputs;
    /// alpha, beta) → Reshape to (N, J, 1, 1) for darknet's rank-4 output.
    /// </summary>
    public static void FullyConnected(OnnxLoweringContext c)
    {
        var attributes = c.Node.AttributesAs<FullyConnectedAttributes>();
        var x = c.InputShape(0);
        var data = OnnxActivationQuantizer.Input(c);
        var flat = x.Rank == 2 ? data : c.Emit("Flatten", [data], [Int("axis", 1)]);
        var output = c.OutputShape();
        // Stored outputs x inputs (transB=1) the output channel is axis 0; inputs x outputs, axis 1.
        List<string> inputs = [flat, OnnxWeightQuantizer.Weight(c, 1, attributes.Transposed ? 1 : 0)];
        if (c.HasInput(2))
        {
            inputs.Add(c.Input(2));
        }

        List<AttributeProto> gemm = [Int("transB", attributes.Transposed ? 0 : 1), Float("alpha", attributes.Alpha), Float("beta", attributes.Beta)];
        var into = OnnxActivationQuantizer.OutputInto(c);
        var result = output.Rank == 2
            ? c.Emit("Gemm", inputs, gemm, into)
            : c.Reshape(c.Emit("Gemm", inputs, gemm), new Ir.Shape(output[0], output[1]), output.Dims, into);
        OnnxActivationQuantizer.Output(c, result);
    }

    /// <summary>MatMul → MatMul (numpy semantics on both sides).</summary>
    /// <remarks>A constant B (K x N) is quantized per output column; a rank above 2 stays float.</remarks>
    public static void MatMul(OnnxLoweringContext c)
    {
        if (c.Weight(1) is not { Shape.Rank: 2 })
        {
            c.Emit("MatMul", [c.Input(0), c.Input(1)], null, c.Output());
            return;
        }

        var b = OnnxWeightQuantizer.Weight(c, 1, 1);
        OnnxActivationQuantizer.Output(c, c.Emit("MatMul", [OnnxActivationQuantizer.Input(c), b], null, OnnxActivationQuantizer.OutputInto(c)));
    }

    /// <summary>Darknet [local] has a different filter at every output position; ONNX has no such operator (NM0303).</summary>
    public static void LocallyConnected(OnnxLoweringContext c) =>
        throw c.Refuse(DiagnosticCodes.ExportLocallyConnected,
            "a locally connected layer has its own filter at every output position; ONNX has no locally connected operator, and unrolling it into one convolution per position would multiply the graph by the output size. Replace the layer by [convolutional] and retrain.");

    /// <summary>The IR node's inputs as ONNX names, an omitted optional input left out; the data (input 0) and weights (input 1) stored as the export asks.</summary>
    private static List<string> Inputs(OnnxLoweringContext c, int weightAxis) =>
        Enumerable.Range(0, c.Node.Inputs.Count).Where(c.HasInput).Select(i => i switch
        {
            0 => OnnxActivationQuantizer.Input(c),
            1 => OnnxWeightQuantizer.Weight(c, 1, weightAxis),
            _ => c.Input(i),
        }).ToList();

    public static IEnumerable<AttributeProto> WindowAttributes(SpatialGeometry g, long group) =>
    [
        Ints("kernel_shape", [g.KernelH, g.KernelW]),
        Ints("strides", [g.StrideH, g.StrideW]),
        Ints("pads", [g.PadTop, g.PadLeft, g.PadBottom, g.PadRight]),
        Ints("dilations", [g.DilationH, g.DilationW]),
        Int("group", group),
    ];
}
