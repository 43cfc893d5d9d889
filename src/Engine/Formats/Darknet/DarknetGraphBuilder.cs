using NeuralBuild.Engine.Diagnostics;
using NeuralBuild.Engine.Ir;
using NeuralBuild.Engine.Ops;

namespace NeuralBuild.Engine.Formats.Darknet;

/// <summary>
/// Translates a parsed cfg into the IR, one section at a time, inferring shapes as it goes
/// (a layer's weight shapes depend on its input). Each section becomes the nodes that compute
/// what darknet computes, in darknet's order: a [convolutional] with batch_normalize=1 and
/// leaky activation is Conv → BatchNormalization → Activation, the last two in place.
/// </summary>
internal sealed class DarknetGraphBuilder
{
    private const string InputName = "data";

    private readonly CfgDocument _document;
    private readonly DarknetDialect _dialect;
    private readonly Graph _graph = new();
    private readonly Dictionary<string, Shape> _shapes = new(StringComparer.Ordinal);
    private readonly List<DarknetLayer> _layers = [];
    private readonly List<Diagnostic> _warnings = [];
    private readonly Dictionary<string, int> _storedOrder = new(StringComparer.Ordinal);

    // A [convolutional]'s stored tensors by layer index, for share_index (which may name a layer that shares in turn).
    private readonly Dictionary<int, ConvParameters> _convParameters = [];

    private DarknetGraphBuilder(CfgDocument document, DarknetDialect dialect)
    {
        _document = document;
        _dialect = dialect;
    }

    public static (Graph Graph, List<DarknetLayer> Layers, List<Diagnostic> Warnings) Build(CfgDocument document, DarknetDialect dialect, Shape? inputShape)
    {
        var builder = new DarknetGraphBuilder(document, dialect);
        builder.BuildAll(inputShape);
        return (builder._graph, builder._layers, builder._warnings);
    }

    private void BuildAll(Shape? inputOverride)
    {
        if (_document.Sections.Count == 0 || _document.Sections[0].Type is not ("net" or "network"))
        {
            var where = _document.Sections.Count > 0 ? _document.Sections[0].Location : new SourceLocation(_document.Path, 1, 1);
            throw DiagnosticCodes.CfgMissingNet.Exception(where, "The first section of a Darknet cfg must be [net] (or [network]).");
        }

        if (_document.Sections.Count == 1)
        {
            throw DiagnosticCodes.CfgNoLayers.Exception(_document.Sections[0].Location, "The cfg has a [net] section but no layers.");
        }

        var input = inputOverride ?? NetInputShape(_document.Sections[0]);
        if (!ModelLimits.FitsElementLimit(input))
        {
            throw DiagnosticCodes.CfgTensorTooLarge.Exception(_document.Sections[0].Location, ModelLimits.ElementLimitReason("The input", input));
        }

        _graph.Inputs[InputName] = input;
        _shapes[InputName] = input;

        var previous = InputName;
        for (var i = 1; i < _document.Sections.Count; i++)
        {
            var section = _document.Sections[i];
            var layer = new DarknetLayer(i - 1, section, new LayerOrigin(i - 1, section.Type, $"{i - 1}", section.Location));
            using (Checked.At(section.Location))
            {
                layer.Output = Translate(layer, previous);
            }

            layer.OutputShape = _shapes[layer.Output];
            _layers.Add(layer);
            previous = layer.Output;
        }

        // Outputs: every layer nobody reads (detection heads, the classifier's last layer).
        var read = new HashSet<string>(_graph.Nodes.SelectMany(n => n.Inputs), StringComparer.Ordinal);
        foreach (var layer in _layers)
        {
            if (!read.Contains(layer.Output) && !_graph.Outputs.Contains(layer.Output))
            {
                _graph.Outputs.Add(layer.Output);
            }
        }
    }

    private static Shape NetInputShape(CfgSection net)
    {
        var h = net.NonNegative("height", 0);
        var w = net.NonNegative("width", 0);
        var c = net.NonNegative("channels", 0);
        if (h > 0 && w > 0 && c > 0)
        {
            return Shape.Nchw(1, c, h, w);
        }

        var inputs = net.Int("inputs", Checked.Mul(h, w, c), 0, ModelLimits.MaxElements);
        if (inputs > 0 && h == 0 && w == 0)
        {
            return Shape.Nchw(1, inputs, 1, 1);
        }

        // Point at the offending value when the cfg wrote one (width=0), else at [net] (option missing).
        var offending = new[] { ("width", w), ("height", h), ("channels", c) }
            .Where(option => option.Item2 == 0)
            .Select(option => net.Find(option.Item1))
            .FirstOrDefault(option => option is not null);
        throw DiagnosticCodes.CfgInvalidValue.Exception(offending?.Location ?? net.Location,
            $"[net] needs positive width, height and channels (got width={w}, height={h}, channels={c}).");
    }

    private string Translate(DarknetLayer layer, string input)
    {
        var s = layer.Section;
        return s.Type switch
        {
            "convolutional" or "conv" => Convolutional(layer, input),
            "deconvolutional" or "deconv" => Deconvolutional(layer, input),
            "connected" or "conn" => Connected(layer, input),
            "local" => Local(layer, input),
            "batchnorm" => StandaloneBatchNorm(layer, input),
            "maxpool" or "max" => Pool(layer, input, "MaxPool"),
            "local_avgpool" or "local_avg" => Pool(layer, input, "AveragePool"),
            "avgpool" or "avg" => Simple(layer, "GlobalAveragePool", [input]),
            "route" => Route(layer),
            "shortcut" => ShortcutLayer(layer, input),
            "scale_channels" => FromMul(layer, input),
            "sam" => FromMul(layer, input),
            "upsample" => Upsample(layer, input),
            "reorg" or "reorg3d" => Simple(layer, "Reorg", [input], a => a
                .Set("stride", s.Positive("stride", 1))
                .Set("reverse", s.Int("reverse", 0))
                .Set("extra", s.NonNegative("extra", 0))
                .Set("flavor", s.Type)),
            "softmax" or "soft" => Simple(layer, "Softmax", [input], a => a.Set("groups", s.Positive("groups", 1)).Set("temperature", s.Float("temperature", 1))),
            "dropout" => Simple(layer, "Dropout", [input], a => a.Set("probability", s.Float("probability", 0.2)), inPlace: true),
            "cost" => Simple(layer, "Identity", [input], inPlace: true),
            "empty" or "silence" => Simple(layer, "Identity", [input], inPlace: true),
            "activation" => Simple(layer, "Activation", [input], a => ActivationAttributes(a, s.String("activation", "linear"), s)),
            "normalization" or "lrn" => Simple(layer, "LRN", [input], a => a
                .Set("size", s.Positive("size", 5))
                .Set("alpha", s.Float("alpha", 0.0001))
                .Set("beta", s.Float("beta", 0.75))
                .Set("kappa", s.Float("kappa", 1))),
            "crop" => Simple(layer, "DarknetCrop", [input], a => a
                .Set("crop_height", s.Positive("crop_height", 1))
                .Set("crop_width", s.Positive("crop_width", 1))
                .Set("noadjust", s.Int("noadjust", 0))),
            "yolo" => Yolo(layer, input, "DarknetYolo"),
            "Gaussian_yolo" => Yolo(layer, input, "DarknetGaussianYolo"),
            "region" => Simple(layer, "DarknetRegion", [input], a => a
                .Set("num", s.Positive("num", 1))
                .Set("classes", s.NonNegative("classes", 20))
                .Set("coords", s.Positive("coords", 4))
                .Set("softmax", s.Int("softmax", 0))
                .Set("layout", _dialect == DarknetDialect.AlexeyAB ? "boxes" : "planes")),
            "detection" => Simple(layer, "DarknetDetection", [input], a => a
                .Set("num", s.Positive("num", 1))
                .Set("classes", s.NonNegative("classes", 1))
                .Set("coords", s.Positive("coords", 1))
                .Set("side", s.Positive("side", 7))
                .Set("sqrt", s.Int("sqrt", 0))
                .Set("softmax", s.Int("softmax", 0))),
            "contrastive" => Simple(layer, "DarknetContrastive", [input]),
            "rnn" or "gru" or "lstm" or "crnn" or "conv_lstm" or "history" =>
                throw DiagnosticCodes.CfgUnsupportedLayer.Exception(s.Location,
                    $"layer {layer.Index} [{s.Type}] is recurrent; NeuralBuild analyses feed-forward models only."),
            "implicit" =>
                throw DiagnosticCodes.CfgUnsupportedLayer.Exception(s.Location,
                    $"layer {layer.Index} [implicit] (learned constant tensor) is not supported yet."),
            "net" or "network" =>
                throw DiagnosticCodes.CfgSyntax.Exception(s.Location, "Only the first section may be [net]."),
            _ => throw DiagnosticCodes.CfgUnknownSection.Exception(s.Location,
                $"[{s.Type}] is not a Darknet layer kind (darknet says \"Type not recognized\"). Check the spelling."),
        };
    }

    private string Convolutional(DarknetLayer layer, string input)
    {
        var s = layer.Section;
        var x = _shapes[input];
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
        var padding = s.NonNegative("padding", 0);
        if (s.Int("pad", 0) != 0)
        {
            padding = size / 2; // darknet: pad=1 wins over padding=
        }

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
        var prefix = $"layer{layer.Index}";
        var weightShape = new Shape(filters, x.C / groups, size, size);
        ConvParameters parameters;
        if (s.Find("share_index") is { } shareOption)
        {
            var shareIndex = s.Int("share_index", 0);
            var shared = ResolveLayer(layer, shareIndex >= 0 ? shareIndex : layer.Index + shareIndex, shareOption);

            // Darknet copies the shared layer's pointers without a check; its weights must have this layer's shape.
            var sharedParameters = _convParameters.GetValueOrDefault(shared.Index);
            var sharedShape = sharedParameters is null ? null : _shapes[sharedParameters.Weights];
            if (sharedParameters is null || !sharedShape!.Equals(weightShape) || (batchNormalize && sharedParameters.Scales is null))
            {
                throw DiagnosticCodes.ShapeMismatch.Exception(shareOption.Location,
                    $"layer {layer.Index} [{s.Type}] share_index={shareOption.Value} shares the weights of layer {shared.Index} [{shared.Section.Type}], " +
                    $"which {(sharedShape is null ? "has no convolution weights" : $"holds {sharedShape}")}; this layer needs {weightShape}" +
                    (batchNormalize ? " and batch-normalization statistics." : "."));
            }

            parameters = sharedParameters;
        }
        else
        {
            parameters = new ConvParameters(AddStored(layer, "weights", weightShape, order: 10), AddStored(layer, "biases", new Shape(filters), order: 0));
        }

        var (weights, biases) = (parameters.Weights, parameters.Biases);

        var conv = new Node($"{prefix}/conv", "Conv", batchNormalize ? [input, weights] : [input, weights, biases], [$"{prefix}/conv"], layer.Origin);
        conv.Attributes
            .Set("kernel_shape", [size, size])
            .Set("strides", [strideY, strideX])
            .Set("pads", pads)
            .Set("dilations", [dilation, dilation])
            .Set("group", groups)
            .Set("xnor", s.Int("xnor", 0));
        var current = AddNode(conv);

        if (batchNormalize)
        {
            if (parameters.Scales is null)
            {
                parameters = parameters with
                {
                    Scales = AddStored(layer, "scales", new Shape(filters), order: 1),
                    Mean = AddStored(layer, "rolling_mean", new Shape(filters), order: 2),
                    Variance = AddStored(layer, "rolling_variance", new Shape(filters), order: 3),
                };
            }

            current = AddBatchNorm(layer, current, parameters.Scales, biases, parameters.Mean!, parameters.Variance!, connected: false);
        }

        _convParameters[layer.Index] = parameters;

        return AddActivation(layer, current, s.String("activation", "logistic"));
    }

    private string Deconvolutional(DarknetLayer layer, string input)
    {
        var s = layer.Section;
        var x = _shapes[input];
        var filters = s.Positive("filters", 1);
        var size = s.Positive("size", 1);
        var stride = s.Positive("stride", 1);
        var padding = s.NonNegative("padding", 0);
        if (s.Int("pad", 0) != 0)
        {
            padding = size / 2;
        }

        var batchNormalize = s.Int("batch_normalize", 0) != 0;
        var prefix = $"layer{layer.Index}";
        var weights = AddStored(layer, "weights", new Shape(x.C, filters, size, size), order: 10);
        var biases = AddStored(layer, "biases", new Shape(filters), order: 0);
        var deconv = new Node($"{prefix}/deconv", "ConvTranspose", batchNormalize ? [input, weights] : [input, weights, biases], [$"{prefix}/deconv"], layer.Origin);
        deconv.Attributes
            .Set("kernel_shape", [size, size])
            .Set("strides", [stride, stride])
            .Set("pads", [padding, padding, padding, padding])
            .Set("group", 1L);
        var current = AddNode(deconv);
        if (batchNormalize)
        {
            current = AddBatchNorm(layer, current,
                AddStored(layer, "scales", new Shape(filters), order: 1), biases,
                AddStored(layer, "rolling_mean", new Shape(filters), order: 2),
                AddStored(layer, "rolling_variance", new Shape(filters), order: 3),
                connected: false);
        }

        return AddActivation(layer, current, s.String("activation", "logistic"));
    }

    private string Connected(DarknetLayer layer, string input)
    {
        var s = layer.Section;
        var inputs = _shapes[input].ElementsPerItem;
        var outputs = s.Positive("output", 1);
        var batchNormalize = s.Int("batch_normalize", 0) != 0;
        var prefix = $"layer{layer.Index}";

        // File order: biases, weights, then the BN statistics.
        var biases = AddStored(layer, "biases", new Shape(outputs), order: 0);
        var weights = AddStored(layer, "weights", new Shape(outputs, inputs), order: 1);
        var fc = new Node($"{prefix}/fc", "FullyConnected", batchNormalize ? [input, weights] : [input, weights, biases], [$"{prefix}/fc"], layer.Origin);
        var current = AddNode(fc);
        if (batchNormalize)
        {
            current = AddBatchNorm(layer, current,
                AddStored(layer, "scales", new Shape(outputs), order: 2), biases,
                AddStored(layer, "rolling_mean", new Shape(outputs), order: 3),
                AddStored(layer, "rolling_variance", new Shape(outputs), order: 4),
                connected: true);
        }

        return AddActivation(layer, current, s.String("activation", "logistic"));
    }

    private string Local(DarknetLayer layer, string input)
    {
        var s = layer.Section;
        var filters = s.Positive("filters", 1);
        var size = s.Positive("size", 1);
        var stride = s.Positive("stride", 1);
        var pad = s.Int("pad", 0);
        var prefix = $"layer{layer.Index}";
        var node = new Node($"{prefix}/local", "LocallyConnected", [input], [$"{prefix}/local"], layer.Origin);
        node.Attributes.Set("kernel", size).Set("stride", stride).Set("pad", pad).Set("filters", filters);

        // Weight shapes depend on the output size: infer it before naming the weights.
        var output = OpRegistry.Get(node).InferShapes(new OpContext(node, [_shapes[input]]))[0];
        var x = _shapes[input];
        var locations = Checked.Mul(output.H, output.W);
        var biases = AddStored(layer, "biases", new Shape(filters, output.H, output.W), order: 0);
        var weights = AddStored(layer, "weights", new Shape(locations, filters, Checked.Mul(x.C, size * size)), order: 1);
        node.Inputs.Add(weights);
        node.Inputs.Add(biases);
        return AddActivation(layer, AddNode(node), s.String("activation", "logistic"));
    }

    private string StandaloneBatchNorm(DarknetLayer layer, string input)
    {
        var c = _shapes[input].Rank == 4 ? _shapes[input].C : _shapes[input].ElementsPerItem;
        // AlexeyAB stores biases, scales, mean, variance; pjreddie only the last three (beta stays 0).
        var biases = _dialect == DarknetDialect.AlexeyAB ? AddStored(layer, "biases", new Shape(c), order: 0) : string.Empty;
        var scales = AddStored(layer, "scales", new Shape(c), order: 1);
        var mean = AddStored(layer, "rolling_mean", new Shape(c), order: 2);
        var variance = AddStored(layer, "rolling_variance", new Shape(c), order: 3);
        var bn = new Node($"layer{layer.Index}/bn", "BatchNormalization", [input, scales, biases, mean, variance], [$"layer{layer.Index}"], layer.Origin);
        SetBatchNormEpsilon(bn, connected: false);
        return AddNode(bn);
    }

    private string Pool(DarknetLayer layer, string input, string op)
    {
        var s = layer.Section;
        var stride = s.Positive("stride", 1);
        var strideX = s.Positive("stride_x", stride);
        var strideY = s.Positive("stride_y", stride);
        var size = s.Positive("size", stride);
        if (size * size > ModelLimits.MaxElements)
        {
            throw DiagnosticCodes.CfgInvalidValue.Exception(s.Find("size")?.Location ?? s.Location,
                $"[{s.Type}] size={size} is too large: its {size}x{size} window covers more than {ModelLimits.MaxElements:N0} (2^31 - 1) elements, NeuralBuild's limit for one tensor.");
        }

        var padding = s.NonNegative("padding", size - 1);
        if (s.Int("antialiasing", 0) != 0)
        {
            throw DiagnosticCodes.CfgUnsupportedLayer.Exception(s.Find("antialiasing")!.Location,
                $"layer {layer.Index} [{s.Type}] antialiasing=1 is not supported yet.");
        }

        return Simple(layer, op, [input], a =>
        {
            // Darknet offsets windows by -padding/2; the rest of the padding lies at the end.
            a.Set("kernel_shape", [size, size])
             .Set("strides", [strideY, strideX])
             .Set("pads", [padding / 2, padding / 2, padding - (padding / 2), padding - (padding / 2)])
             .Set("count_include_pad", 0L);
            if (op == "MaxPool" && s.Int("maxpool_depth", 0) != 0)
            {
                a.Set("depth_channels", s.Positive("out_channels", 1));
            }
        });
    }

    private string Route(DarknetLayer layer)
    {
        var s = layer.Section;
        var option = s.Find("layers") ?? throw DiagnosticCodes.CfgInvalidValue.Exception(s.Location, $"layer {layer.Index} [route] needs layers=.");
        var indices = s.IntList("layers")!;
        var groups = s.Positive("groups", 1);
        if (s.Find("group_id") is { } groupId && s.NonNegative("group_id", 0) >= groups)
        {
            throw DiagnosticCodes.CfgInvalidValue.Exception(groupId.Location,
                $"layer {layer.Index} [route] group_id={groupId.Value} must be less than groups={groups}.");
        }

        var inputs = indices.Select(i => ResolveLayer(layer, i < 0 ? layer.Index + i : i, option).Output).ToList();
        if (groups > 1 && inputs.Select(i => _shapes[i]).FirstOrDefault(x => x.Rank == 4 && x.C % groups != 0) is { } undivided)
        {
            throw DiagnosticCodes.ShapeMismatch.Exception(s.Find("groups")!.Location,
                $"layer {layer.Index} [route] groups={groups} does not divide the {undivided.C} channels of {undivided}; each input is split into groups of equal size.");
        }

        return Simple(layer, "Concat", inputs, a => a
            .Set("axis", 1L)
            .Set("groups", s.Positive("groups", 1))
            .Set("group_id", s.NonNegative("group_id", 0)));
    }

    private string ShortcutLayer(DarknetLayer layer, string input)
    {
        var s = layer.Section;
        var option = s.Find("from") ?? throw DiagnosticCodes.CfgInvalidValue.Exception(s.Location, $"layer {layer.Index} [shortcut] needs from=.");
        var from = s.IntList("from")!.Select(i => ResolveLayer(layer, i < 0 ? layer.Index + i : i, option)).ToList();
        var inputs = new List<string> { input };
        inputs.AddRange(from.Select(l => l.Output));
        var weightsType = s.String("weights_type", "none");
        var c = _shapes[input].C;
        long weightCount = weightsType switch
        {
            "none" => 0,
            "per_feature" or "per_layer" => from.Count + 1,
            "per_channel" => Checked.Mul(from.Count + 1, c),
            _ => throw DiagnosticCodes.CfgInvalidValue.Exception(s.Find("weights_type")!.Location,
                $"weights_type={weightsType} is not one of none, per_feature, per_channel."),
        };
        if (weightCount > 0)
        {
            inputs.Add(AddStored(layer, "weights", new Shape(weightCount), order: 0));
        }

        var prefix = $"layer{layer.Index}";
        Node node;
        if (from.Count == 1 && weightCount == 0 && _shapes[input].Equals(_shapes[from[0].Output]))
        {
            // The common residual: one unweighted layer of the same shape, added as darknet adds
            // (output = input, then += from): the canonical element-wise Add.
            node = new Node($"{prefix}/shortcut", "Arithmetic", inputs, [$"{prefix}/shortcut"], layer.Origin);
            node.Attributes.Set("operation", "add");
        }
        else
        {
            node = new Node($"{prefix}/shortcut", "Shortcut", inputs, [$"{prefix}/shortcut"], layer.Origin);
            node.Attributes.Set("from_count", (long)from.Count).Set("weights_type", weightsType)
                .Set("weights_normalization", s.String("weights_normalization", "none"))
                .Set("size_mismatch", _dialect == DarknetDialect.Pjreddie ? "strided" : "flat");
        }

        return AddActivation(layer, AddNode(node), s.String("activation", "linear"));
    }

    /// <summary>
    /// [upsample] with a positive stride and scale 1 copies each pixel stride x stride times: exactly
    /// a nearest Resize with asymmetric coordinates rounded down. Darknet's reverse (a negative
    /// stride, which sums each block) and a scale other than 1 stay darknet's own Upsample.
    /// </summary>
    private string Upsample(DarknetLayer layer, string input)
    {
        var s = layer.Section;
        var stride = UpsampleStride(s);
        var scale = s.Float("scale", 1);
        return stride > 0 && scale == 1
            ? Simple(layer, "Resize", [input], a => a
                .Set("scales", new double[] { 1, 1, stride, stride })
                .Set("mode", "nearest")
                .Set("coordinate_transformation_mode", "asymmetric")
                .Set("nearest_mode", "floor"))
            : Simple(layer, "Upsample", [input], a => a.Set("stride", stride).Set("scale", scale));
    }

    /// <summary>[upsample] stride: positive enlarges, negative shrinks by that factor (darknet's reverse), 0 means nothing.</summary>
    private static long UpsampleStride(CfgSection s)
    {
        var stride = s.Int("stride", 2, -ModelLimits.MaxExtent, ModelLimits.MaxExtent);
        return stride != 0
            ? stride
            : throw DiagnosticCodes.CfgInvalidValue.Exception(s.Find("stride")!.Location,
                "[upsample] stride=0 must not be 0: a positive stride enlarges the image, a negative one shrinks it.");
    }

    private string FromMul(DarknetLayer layer, string input)
    {
        var s = layer.Section;
        var option = s.Find("from") ?? throw DiagnosticCodes.CfgInvalidValue.Exception(s.Location, $"layer {layer.Index} [{s.Type}] needs from=.");
        var index = s.IntList("from")![0];
        var from = ResolveLayer(layer, index < 0 ? layer.Index + index : index, option);
        var prefix = $"layer{layer.Index}";
        // [sam] multiplies equal shapes, [scale_channels] a (N, C, 1, 1) or, with scale_wh, a
        // (N, 1, H, W) scale: both are the broadcasting product.
        var node = new Node($"{prefix}/mul", "Arithmetic", [from.Output, input], [$"{prefix}/mul"], layer.Origin);
        node.Attributes.Set("operation", "mul");
        return AddActivation(layer, AddNode(node), s.String("activation", "linear"));
    }

    private string Yolo(DarknetLayer layer, string input, string op)
    {
        var s = layer.Section;
        var total = s.Positive("num", 1);
        var mask = s.IntList("mask");

        // Darknet indexes the anchors list with the mask without checking num (cspx-p7-mish.cfg
        // has num=16 with 20 anchors and mask=16,17,18,19), so the bound is the anchors given.
        var anchorPairs = s.Find("anchors") is { } anchors ? (anchors.Value.Split(',', StringSplitOptions.RemoveEmptyEntries).Length / 2) : total;
        if (mask is not null && mask.Any(m => m < 0 || m >= Math.Max(anchorPairs, total)))
        {
            throw DiagnosticCodes.CfgInvalidValue.Exception(s.Find("mask")!.Location,
                $"layer {layer.Index} [{s.Type}] mask={s.Find("mask")!.Value} selects anchors beyond the {Math.Max(anchorPairs, total)} anchors given.");
        }

        return Simple(layer, op, [input], a => a
            .Set("anchors", mask?.Length ?? total)
            .Set("classes", s.NonNegative("classes", 20))
            .Set("new_coords", s.Int("new_coords", 0))
            .Set("scale_x_y", s.Float("scale_x_y", 1)));
    }

    private string AddBatchNorm(DarknetLayer layer, string input, string scales, string biases, string mean, string variance, bool connected)
    {
        var bn = new Node($"layer{layer.Index}/bn", "BatchNormalization", [input, scales, biases, mean, variance], [$"layer{layer.Index}/bn"], layer.Origin) { InPlace = true };
        SetBatchNormEpsilon(bn, connected);
        return AddNode(bn);
    }

    /// <summary>The BN arithmetic of the dialect (docs/fusion.md): AlexeyAB adds eps inside the root.</summary>
    private void SetBatchNormEpsilon(Node bn, bool connected)
    {
        if (_dialect == DarknetDialect.AlexeyAB)
        {
            bn.Attributes.Set("epsilon", connected ? 1e-6 : 1e-5).Set("epsilon_placement", "inside");
        }
        else
        {
            bn.Attributes.Set("epsilon", 1e-6).Set("epsilon_placement", "outside");
        }
    }

    private string AddActivation(DarknetLayer layer, string input, string function)
    {
        if (function == "linear")
        {
            return input;
        }

        var node = new Node($"layer{layer.Index}/act", "Activation", [input], [$"layer{layer.Index}/act"], layer.Origin) { InPlace = true };
        ActivationAttributes(node.Attributes, function, layer.Section);
        return AddNode(node);
    }

    private static Attributes ActivationAttributes(Attributes attributes, string function, CfgSection section)
    {
        if (!Activation.IsKnown(function))
        {
            throw DiagnosticCodes.CfgInvalidValue.Exception(section.Find("activation")?.Location ?? section.Location,
                $"activation={function} is not a Darknet activation; known: {string.Join(", ", Activation.KnownFunctions)}.");
        }

        return attributes.Set("function", function).Set("alpha", function == "leaky" ? 0.1 : 0.0);
    }

    private string Simple(DarknetLayer layer, string op, List<string> inputs, Action<Attributes>? configure = null, bool inPlace = false)
    {
        var node = new Node($"layer{layer.Index}/{op}", op, inputs, [$"layer{layer.Index}"], layer.Origin) { InPlace = inPlace };
        configure?.Invoke(node.Attributes);
        return AddNode(node);
    }

    private DarknetLayer ResolveLayer(DarknetLayer layer, long index, CfgOption option)
    {
        if (index < 0 || index >= layer.Index)
        {
            throw DiagnosticCodes.CfgBadLayerReference.Exception(option.Location,
                $"layer {layer.Index} [{layer.Section.Type}] {option.Key}={option.Value} refers to layer {index}, but only layers 0..{layer.Index - 1} come before it.");
        }

        return _layers[(int)index];
    }

    private string AddStored(DarknetLayer layer, string role, Shape shape, int order)
    {
        if (!ModelLimits.FitsElementLimit(shape))
        {
            throw DiagnosticCodes.CfgTensorTooLarge.Exception(layer.Section.Location,
                ModelLimits.ElementLimitReason($"layer {layer.Index} [{layer.Section.Type}] {role}", shape));
        }

        var name = $"layer{layer.Index}/{role}";
        _graph.Initializers[name] = new Initializer(name, shape, data: null);
        _shapes[name] = shape;
        _storedOrder[name] = order;
        layer.StoredTensors.Add(name);

        // The builder meets tensors in graph order; the file holds them in darknet's order.
        layer.StoredTensors.Sort((a, b) => _storedOrder[a].CompareTo(_storedOrder[b]));
        return name;
    }

    private string AddNode(Node node)
    {
        var kind = OpRegistry.Get(node);
        var inputShapes = node.Inputs.Select(i => i.Length == 0 ? null : _shapes.GetValueOrDefault(i)).ToList();
        var outputs = kind.InferShapes(new OpContext(node, inputShapes));
        for (var i = 0; i < node.Outputs.Count; i++)
        {
            // Refused here, at the section that makes it, before anything downstream sizes a buffer from it.
            if (!ModelLimits.FitsElementLimit(outputs[i]))
            {
                throw DiagnosticCodes.CfgTensorTooLarge.Exception(node.Origin.Location,
                    ModelLimits.ElementLimitReason($"layer {node.Origin.Index} [{node.Origin.Kind}] output", outputs[i]));
            }

            _shapes[node.Outputs[i]] = outputs[i];
        }

        _graph.Nodes.Add(node);
        return node.Outputs[0];
    }

    private sealed record ConvParameters(string Weights, string Biases, string? Scales = null, string? Mean = null, string? Variance = null);
}
