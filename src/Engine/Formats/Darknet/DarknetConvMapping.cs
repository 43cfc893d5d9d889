using NeuralBuild.Engine.Diagnostics;
using NeuralBuild.Engine.Ir;
using NeuralBuild.Engine.Ops;

namespace NeuralBuild.Engine.Formats.Darknet;

/// <summary>A [convolutional]'s stored tensors, which a later layer may share by share_index.</summary>
internal sealed record DarknetConvParameters(string Weights, string Biases, string? Scales = null, string? Mean = null, string? Variance = null);

/// <summary>
/// Layers with learned weights: [convolutional], [deconvolutional], [connected], [local] and the
/// standalone [batchnorm]. A layer with batch_normalize=1 is its op → BatchNormalization → Activation, the last two in place.
/// </summary>
internal static class DarknetConvMapping
{
    public static string Convolutional(DarknetSection layer)
    {
        var s = layer.Section;
        var x = layer.InputShape;
        if (x.Rank != 4 || x.H <= 0)
        {
            throw DiagnosticCodes.ShapeMismatch.Exception(s.Location, $"layer {layer.Index} [{s.Type}]: the layer before must output an image, not {x}.");
        }

        var filters = s.Positive("filters", 1);
        var size = s.Positive("size", 1);
        var stride = s.Positive("stride", 1);
        // Darknet takes stride_x / stride_y below 1 to mean "as stride".
        var strideX = s.Int("stride_x", -1, long.MinValue, ModelLimits.MaxExtent) is var sx && sx >= 1 ? sx : stride;
        var strideY = s.Int("stride_y", -1, long.MinValue, ModelLimits.MaxExtent) is var sy && sy >= 1 ? sy : stride;
        var dilation = size == 1 ? 1 : s.Positive("dilation", 1);
        var groups = s.Positive("groups", 1);
        var padding = Padding(s, size);

        if (s.Int("antialiasing", 0) != 0)
        {
            throw DiagnosticCodes.CfgUnsupportedLayer.Exception(s.Find("antialiasing")!.Location,
                $"layer {layer.Index} [{s.Type}] antialiasing=1 (blur after a strided conv) is not supported yet.");
        }

        if (x.C % groups != 0 || filters % groups != 0)
        {
            throw DiagnosticCodes.ShapeMismatch.Exception(s.Find("groups")?.Location ?? s.Location,
                x.C % groups != 0
                    ? $"layer {layer.Index} [{s.Type}]: groups={groups} does not divide the {x.C} input channels."
                    : $"layer {layer.Index} [{s.Type}]: groups={groups} does not divide filters={filters}; each group needs the same number of filters.");
        }

        // Darknet sizes the output as (in + 2*pad - size)/stride + 1 whatever the dilation; the
        // dilated kernel's extra reach is centred so the generic rule gives the same size.
        var extra = (dilation - 1) * (size - 1);
        long[] pads = [padding + (extra / 2), padding + (extra / 2), padding + extra - (extra / 2), padding + extra - (extra / 2)];

        var batchNormalize = s.Int("batch_normalize", 0) != 0;
        var weightShape = new Shape(filters, x.C / groups, size, size);
        var parameters = s.Find("share_index") is { } shareOption
            ? SharedParameters(layer, shareOption, weightShape, batchNormalize)
            : new DarknetConvParameters(layer.Weight("weights", weightShape, order: 10), layer.Weight("biases", new Shape(filters), order: 0));

        var (weights, biases) = (parameters.Weights, parameters.Biases);

        var conv = new Node($"{layer.Prefix}/conv", "Conv", batchNormalize ? [layer.Input, weights] : [layer.Input, weights, biases], [$"{layer.Prefix}/conv"], layer.Layer.Origin);
        conv.Attributes
            .Set("kernel_shape", [size, size])
            .Set("strides", [strideY, strideX])
            .Set("pads", pads)
            .Set("dilations", [dilation, dilation])
            .Set("group", groups)
            .Set("xnor", s.Int("xnor", 0));
        var current = layer.Add(conv);

        if (batchNormalize)
        {
            if (parameters.Scales is null)
            {
                parameters = parameters with
                {
                    Scales = layer.Weight("scales", new Shape(filters), order: 1),
                    Mean = layer.Weight("rolling_mean", new Shape(filters), order: 2),
                    Variance = layer.Weight("rolling_variance", new Shape(filters), order: 3),
                };
            }

            current = layer.BatchNorm(current, parameters.Scales, biases, parameters.Mean!, parameters.Variance!, connected: false);
        }

        layer.RememberConvParameters(parameters);

        return layer.ActivateAsConfigured(current, "logistic");
    }

    public static string Deconvolutional(DarknetSection layer)
    {
        var s = layer.Section;
        var x = layer.InputShape;
        var filters = s.Positive("filters", 1);
        var size = s.Positive("size", 1);
        var stride = s.Positive("stride", 1);
        var padding = Padding(s, size);

        var batchNormalize = s.Int("batch_normalize", 0) != 0;
        var weights = layer.Weight("weights", new Shape(x.C, filters, size, size), order: 10);
        var biases = layer.Weight("biases", new Shape(filters), order: 0);
        var deconv = new Node($"{layer.Prefix}/deconv", "ConvTranspose", batchNormalize ? [layer.Input, weights] : [layer.Input, weights, biases], [$"{layer.Prefix}/deconv"], layer.Layer.Origin);
        deconv.Attributes
            .Set("kernel_shape", [size, size])
            .Set("strides", [stride, stride])
            .Set("pads", [padding, padding, padding, padding])
            .Set("group", 1L);
        var current = layer.Add(deconv);
        if (batchNormalize)
        {
            current = AddStatistics(layer, current, biases, filters, firstOrder: 1, connected: false);
        }

        return layer.ActivateAsConfigured(current, "logistic");
    }

    public static string Connected(DarknetSection layer)
    {
        var s = layer.Section;
        var inputs = layer.InputShape.ElementsPerItem;
        var outputs = s.Positive("output", 1);
        var batchNormalize = s.Int("batch_normalize", 0) != 0;

        // File order: biases, weights, then the BN statistics.
        var biases = layer.Weight("biases", new Shape(outputs), order: 0);
        var weights = layer.Weight("weights", new Shape(outputs, inputs), order: 1);
        var fc = new Node($"{layer.Prefix}/fc", "FullyConnected", batchNormalize ? [layer.Input, weights] : [layer.Input, weights, biases], [$"{layer.Prefix}/fc"], layer.Layer.Origin);
        var current = layer.Add(fc);
        if (batchNormalize)
        {
            current = AddStatistics(layer, current, biases, outputs, firstOrder: 2, connected: true);
        }

        return layer.ActivateAsConfigured(current, "logistic");
    }

    public static string Local(DarknetSection layer)
    {
        var s = layer.Section;
        var filters = s.Positive("filters", 1);
        var size = s.Positive("size", 1);
        var stride = s.Positive("stride", 1);
        var pad = s.Int("pad", 0);
        var node = new Node($"{layer.Prefix}/local", "LocallyConnected", [layer.Input], [$"{layer.Prefix}/local"], layer.Layer.Origin);
        node.Attributes.Set("kernel", size).Set("stride", stride).Set("pad", pad).Set("filters", filters);

        // Weight shapes depend on the output size: infer it before naming the weights.
        var x = layer.InputShape;
        var output = OpRegistry.Get(node).InferShapes(new OpContext(node, [x]))[0];
        var locations = Checked.Mul(output.H, output.W);
        var biases = layer.Weight("biases", new Shape(filters, output.H, output.W), order: 0);
        var weights = layer.Weight("weights", new Shape(locations, filters, Checked.Mul(x.C, size * size)), order: 1);
        node.Inputs.Add(weights);
        node.Inputs.Add(biases);
        return layer.ActivateAsConfigured(layer.Add(node), "logistic");
    }

    public static string StandaloneBatchNorm(DarknetSection layer)
    {
        var x = layer.InputShape;
        var c = x.Rank == 4 ? x.C : x.ElementsPerItem;
        // AlexeyAB stores biases, scales, mean, variance; pjreddie only the last three (beta stays 0).
        var biases = layer.Dialect == DarknetDialect.AlexeyAB ? layer.Weight("biases", new Shape(c), order: 0) : string.Empty;
        var scales = layer.Weight("scales", new Shape(c), order: 1);
        var mean = layer.Weight("rolling_mean", new Shape(c), order: 2);
        var variance = layer.Weight("rolling_variance", new Shape(c), order: 3);
        var bn = new Node($"{layer.Prefix}/bn", "BatchNormalization", [layer.Input, scales, biases, mean, variance], [layer.Prefix], layer.Layer.Origin);
        layer.SetBatchNormEpsilon(bn, connected: false);
        return layer.Add(bn);
    }

    private static long Padding(CfgSection s, long size)
    {
        var padding = s.NonNegative("padding", 0);
        if (s.Int("pad", 0) != 0)
        {
            padding = size / 2; // darknet: pad=1 wins over padding=
        }

        return padding;
    }

    private static DarknetConvParameters SharedParameters(DarknetSection layer, CfgOption shareOption, Shape weightShape, bool batchNormalize)
    {
        var s = layer.Section;
        var shareIndex = s.Int("share_index", 0);
        var shared = layer.Resolve(shareIndex >= 0 ? shareIndex : layer.Index + shareIndex, shareOption);

        // Darknet copies the shared layer's pointers without a check; its weights must have this layer's shape.
        var sharedParameters = layer.ConvParametersOf(shared.Index);
        var sharedShape = sharedParameters is null ? null : layer.ShapeOf(sharedParameters.Weights);
        if (sharedParameters is null || !sharedShape!.Equals(weightShape) || (batchNormalize && sharedParameters.Scales is null))
        {
            throw DiagnosticCodes.ShapeMismatch.Exception(shareOption.Location,
                $"layer {layer.Index} [{s.Type}] share_index={shareOption.Value} shares the weights of layer {shared.Index} [{shared.Section.Type}], " +
                $"which {(sharedShape is null ? "has no convolution weights" : $"holds {sharedShape}")}; this layer needs {weightShape}" +
                (batchNormalize ? " and batch-normalization statistics." : "."));
        }

        return sharedParameters;
    }

    /// <summary>The BN statistics a deconvolutional or connected layer stores after its own tensors, then the BN itself.</summary>
    private static string AddStatistics(DarknetSection layer, string current, string biases, long channels, int firstOrder, bool connected) =>
        layer.BatchNorm(current,
            layer.Weight("scales", new Shape(channels), order: firstOrder), biases,
            layer.Weight("rolling_mean", new Shape(channels), order: firstOrder + 1),
            layer.Weight("rolling_variance", new Shape(channels), order: firstOrder + 2),
            connected);
}
