using System.Globalization;
using Google.Protobuf;
using NeuralBuild.Engine.Diagnostics;
using NeuralBuild.Engine.Formats.Caffe.Proto;
using NeuralBuild.Engine.Ir;
using NeuralBuild.Engine.Ops;

namespace NeuralBuild.Engine.Formats.Caffe;

/// <summary>
/// Translates a parsed prototxt into the IR as Caffe builds its TEST-phase network: layers are
/// filtered by their include/exclude rules, run in file order, and read blobs by name. One layer
/// becomes one node (named after the layer). A layer whose top is its bottom (in place) writes a
/// new version of the blob: the IR value is renamed so the graph stays single-assignment, the node
/// is marked <see cref="Node.InPlace"/>, and <see cref="CaffeModel.BlobOfValue"/> maps the version
/// back to the blob name. Shapes are inferred while building (weight shapes depend on the input).
/// Inputs come from <c>input</c> + <c>input_dim</c>, <c>input</c> + <c>input_shape</c> or Input layers;
/// their batch is set to 1 (docs/metrics.md: costs are per image) unless an input shape is given.
/// </summary>
internal sealed class CaffeGraphBuilder
{
    /// <summary>Caffe's kMaxBlobAxes: a blob, and so an input or reshape, has at most 32 axes.</summary>
    private const int MaxAxes = 32;

    private readonly string _path;
    private readonly NetParameter _net;
    private readonly PrototxtSourceMap _map;
    private readonly Shape? _inputOverride;
    private readonly Graph _graph = new();
    private readonly Dictionary<string, Shape> _shapes = new(StringComparer.Ordinal);
    private readonly List<CaffeLayer> _layers = [];
    private readonly Dictionary<string, string> _blobOfValue = new(StringComparer.Ordinal);

    // Blob name → IR value holding its current version.
    private readonly Dictionary<string, string> _current = new(StringComparer.Ordinal);

    // Blobs produced and not read since (Caffe's net outputs are the ones left at the end).
    private readonly List<string> _available = [];
    private readonly HashSet<string> _usedNames = new(StringComparer.Ordinal);
    private readonly Dictionary<string, SourceLocation> _layerNames = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string> _sharedParams = new(StringComparer.Ordinal);
    private bool _firstInput = true;

    private CaffeGraphBuilder(string path, NetParameter net, PrototxtSourceMap map, Shape? inputOverride)
    {
        _path = path;
        _net = net;
        _map = map;
        _inputOverride = inputOverride;
    }

    public static CaffeModel Build(string path, NetParameter net, PrototxtSourceMap map, Shape? inputOverride, out Graph graph)
    {
        var builder = new CaffeGraphBuilder(path, net, map, inputOverride);
        builder.BuildAll();
        graph = builder._graph;
        return new CaffeModel(path, net, map, builder._layers, builder._blobOfValue);
    }

    private void BuildAll()
    {
        foreach (var name in _net.Layer.SelectMany(l => l.Top).Concat(_net.Layers.SelectMany(l => l.Top)).Concat(_net.Input))
        {
            _usedNames.Add(name);
        }

        DeclaredInputs();

        if (_net.Layer.Count > 0 && _net.Layers.Count > 0)
        {
            throw DiagnosticCodes.PrototxtSyntax.Exception(_map.Of(_net, NetParameter.LayersFieldNumber),
                "the net mixes 'layer' and legacy 'layers' (V1) entries; Caffe refuses such a file. Use one kind.");
        }

        IEnumerable<(LayerParameter Layer, IMessage Source)> layers = _net.Layers.Count > 0
            ? _net.Layers.Select(v1 => (CaffeV1Upgrade.Upgrade(v1, _map), (IMessage)v1))
            : _net.Layer.Select(l => (l, (IMessage)l));

        foreach (var (layer, source) in layers)
        {
            if (!CaffePhase.IsIncluded(layer, _net.State))
            {
                continue;
            }

            var location = _map.Of(source);
            var name = layer.Name;
            if (_layerNames.TryGetValue(name, out var first))
            {
                throw DiagnosticCodes.CaffeDuplicateLayer.Exception(location,
                    $"a second layer is named '{name}' (the first is at {first}); Caffe matches weights to layers by name, so layer names must be unique in the TEST network.");
            }

            _layerNames[name] = location;
            var caffeLayer = new CaffeLayer(_layers.Count, layer, source, new LayerOrigin(_layers.Count, layer.Type, name, location));
            using (Checked.At(location))
            {
                Translate(caffeLayer);
            }

            _layers.Add(caffeLayer);
        }

        if (_graph.Inputs.Count == 0)
        {
            throw DiagnosticCodes.CaffeNoInput.Exception(new SourceLocation(_path, 1, 1),
                "the net declares no input: add 'input: \"data\"' with 'input_shape { dim: 1 dim: 3 dim: 224 dim: 224 }', or an Input layer. (Data layers read a database at training time; analyse the deploy prototxt.)");
        }

        if (_graph.Nodes.Count == 0)
        {
            throw DiagnosticCodes.CaffeNoInput.Exception(new SourceLocation(_path, 1, 1), "the net has inputs but no layers that compute anything.");
        }

        foreach (var blob in _available)
        {
            var value = _current[blob];
            if (!_graph.Inputs.ContainsKey(value))
            {
                _graph.Outputs.Add(value);
            }
        }
    }

    // ----------------------------------------------------------------------------------------
    // Inputs.

    private void DeclaredInputs()
    {
        var names = _net.Input;
        if (names.Count == 0)
        {
            if (_net.InputDim.Count > 0 || _net.InputShape.Count > 0)
            {
                throw DiagnosticCodes.CaffeBadInput.Exception(_map.Of(_net, _net.InputDim.Count > 0 ? NetParameter.InputDimFieldNumber : NetParameter.InputShapeFieldNumber),
                    "input_dim / input_shape without 'input': name the input blob with input: \"data\".");
            }

            return;
        }

        if (_net.InputShape.Count > 0 && _net.InputDim.Count > 0)
        {
            throw DiagnosticCodes.CaffeBadInput.Exception(_map.Of(_net, NetParameter.InputDimFieldNumber),
                "the net gives both input_shape and input_dim; Caffe accepts only one of them.");
        }

        for (var i = 0; i < names.Count; i++)
        {
            var location = _map.Of(_net, NetParameter.InputFieldNumber, i);
            long[] dims;
            Func<int, SourceLocation> dimLocation;
            if (_net.InputShape.Count > 0)
            {
                if (_net.InputShape.Count != names.Count)
                {
                    throw DiagnosticCodes.CaffeBadInput.Exception(_map.Of(_net, NetParameter.InputShapeFieldNumber),
                        $"{names.Count} input(s) but {_net.InputShape.Count} input_shape(s); give one input_shape per input.");
                }

                var shape = _net.InputShape[i];
                dims = [.. shape.Dim];
                dimLocation = d => _map.Of(shape, BlobShape.DimFieldNumber, d);
            }
            else if (_net.InputDim.Count > 0)
            {
                if (_net.InputDim.Count != 4 * names.Count)
                {
                    throw DiagnosticCodes.CaffeBadInput.Exception(_map.Of(_net, NetParameter.InputDimFieldNumber),
                        $"{names.Count} input(s) need {4 * names.Count} input_dim values (num, channels, height, width each) but {_net.InputDim.Count} are given.");
                }

                dims = [.. _net.InputDim.Skip(4 * i).Take(4).Select(d => (long)d)];
                var first = 4 * i;
                dimLocation = d => _map.Of(_net, NetParameter.InputDimFieldNumber, first + d);
            }
            else
            {
                throw DiagnosticCodes.CaffeBadInput.Exception(location,
                    $"input '{names[i]}' has no shape: add input_shape {{ dim: 1 dim: 3 dim: 224 dim: 224 }} (or pass --input).");
            }

            AddInput(names[i], dims, location, dimLocation);
        }
    }

    private void AddInput(string name, long[] declared, SourceLocation location, Func<int, SourceLocation> dimLocation)
    {
        if (declared.Length == 0)
        {
            throw DiagnosticCodes.CaffeBadInput.Exception(location, $"input '{name}' has no dimensions; give its shape with dim: values.");
        }

        if (declared.Length > MaxAxes)
        {
            throw DiagnosticCodes.CaffeBadInput.Exception(dimLocation(MaxAxes),
                $"input '{name}' has {declared.Length} dimensions; a Caffe blob has at most {MaxAxes} axes (Caffe's kMaxBlobAxes).");
        }

        var bad = Array.FindIndex(declared, d => d <= 0 || d > ModelLimits.MaxExtent);
        if (bad >= 0)
        {
            throw DiagnosticCodes.CaffeBadInput.Exception(dimLocation(bad),
                $"input '{name}' has the shape ({string.Join(", ", declared)}); " +
                (declared[bad] <= 0 ? "every dimension must be positive." : $"dimension {bad} ({declared[bad]}) is too large: {ModelLimits.ExtentLimitReason}."));
        }

        if (_current.ContainsKey(name))
        {
            throw DiagnosticCodes.CaffeDuplicateTop.Exception(location, $"input '{name}' is declared twice.");
        }

        // Costs are per image: the declared batch (10 in the BVLC deploy files) becomes 1; an
        // explicit input shape replaces the first input and sets the batch of the others.
        Shape shape;
        if (_firstInput && _inputOverride is not null)
        {
            shape = _inputOverride;
        }
        else
        {
            var dims = (long[])declared.Clone();
            dims[0] = _inputOverride?.N ?? 1;
            shape = new Shape(dims);
        }

        _firstInput = false;
        if (!ModelLimits.FitsElementLimit(shape))
        {
            throw DiagnosticCodes.CaffeBlobTooLarge.Exception(location, ModelLimits.ElementLimitReason($"input '{name}'", shape));
        }

        _graph.Inputs[name] = shape;
        _shapes[name] = shape;
        _current[name] = name;
        _blobOfValue[name] = name;
    }

    // ----------------------------------------------------------------------------------------
    // Layers.

    private void Translate(CaffeLayer layer)
    {
        var p = layer.Layer;
        switch (p.Type)
        {
            case "Input":
                InputLayer(layer);
                return;
            case "Convolution":
                Convolution(layer, transposed: false);
                return;
            case "Deconvolution":
                Convolution(layer, transposed: true);
                return;
            case "InnerProduct":
                InnerProduct(layer);
                return;
            case "BatchNorm":
                BatchNorm(layer);
                return;
            case "Scale":
                ScaleLayer(layer);
                return;
            case "Bias":
                BiasLayer(layer);
                return;
            case "ReLU":
            {
                var slope = p.ReluParam?.NegativeSlope ?? 0f;
                Unary(layer, "Activation", a => a.Set("function", slope == 0 ? "relu" : "leaky").Set("alpha", (double)slope));
                return;
            }

            case "PReLU":
                PRelu(layer);
                return;
            case "Sigmoid":
                Unary(layer, "Activation", a => a.Set("function", "logistic").Set("alpha", 0.0));
                return;
            case "TanH":
                Unary(layer, "Activation", a => a.Set("function", "tanh").Set("alpha", 0.0));
                return;
            case "ELU":
                Unary(layer, "Activation", a => a.Set("function", "elu").Set("alpha", (double)(p.EluParam?.Alpha ?? 1f)));
                return;
            case "Pooling":
                Pooling(layer);
                return;
            case "Eltwise":
                EltwiseLayer(layer);
                return;
            case "Concat":
                ConcatLayer(layer);
                return;
            case "Split":
                Emit(layer, "Split", Bottoms(layer, 1, 1), p.Top.Count, forceInPlace: true);
                return;
            case "Slice":
                SliceLayer(layer);
                return;
            case "Flatten":
                FlattenLayer(layer);
                return;
            case "Reshape":
                ReshapeLayer(layer);
                return;
            case "Permute":
                PermuteLayer(layer);
                return;
            case "Softmax":
                SoftmaxLayer(layer);
                return;
            case "Dropout":
                Unary(layer, "Dropout", a => a.Set("probability", (double)(p.DropoutParam?.DropoutRatio ?? 0.5f)));
                return;
            case "LRN":
                Lrn(layer);
                return;
            case "Power":
            {
                var pp = p.PowerParam ?? new PowerParameter();
                Unary(layer, "Power", a => a.Set("power", (double)pp.Power).Set("scale", (double)pp.Scale).Set("shift", (double)pp.Shift));
                return;
            }

            case "Normalize":
                NormalizeLayer(layer);
                return;
            case "PriorBox":
                PriorBoxLayer(layer);
                return;
            case "DetectionOutput":
                DetectionOutputLayer(layer);
                return;
            case "Silence":
                Bottoms(layer, 1, int.MaxValue);
                return;
            default:
                throw Unsupported(layer);
        }
    }

    private static readonly HashSet<string> s_dataLayers = new(StringComparer.Ordinal)
    {
        "Data", "ImageData", "HDF5Data", "MemoryData", "DummyData", "WindowData", "AnnotatedData", "VideoData", "Python",
    };

    private static readonly HashSet<string> s_trainingLayers = new(StringComparer.Ordinal)
    {
        "SoftmaxWithLoss", "EuclideanLoss", "HingeLoss", "InfogainLoss", "MultinomialLogisticLoss", "SigmoidCrossEntropyLoss",
        "ContrastiveLoss", "MultiBoxLoss", "Accuracy", "HDF5Output", "DetectionEvaluate",
    };

    private static readonly HashSet<string> s_knownCaffeLayers = new(StringComparer.Ordinal)
    {
        "AbsVal", "ArgMax", "BNLL", "Crop", "Embed", "Exp", "Log", "LSTM", "RNN", "MVN", "Reduction", "SPP", "Threshold", "Tile",
        "Im2col", "Parameter", "Clip", "Swish", "BatchReindex", "Filter", "Recurrent", "NormalizeBBox",
    };

    private NeuralException Unsupported(CaffeLayer layer)
    {
        var type = layer.Layer.Type;
        var location = _map.Of(layer.Source, "type");
        var why = string.IsNullOrEmpty(type) ? "has no type"
            : s_dataLayers.Contains(type) ? $"is a '{type}' layer, which feeds training data; analyse the deploy prototxt, which declares its input with 'input' or an Input layer"
            : s_trainingLayers.Contains(type) ? $"is a '{type}' layer, which exists only for training; exclude it from the TEST phase (include {{ phase: TRAIN }}) or use the deploy prototxt"
            : s_knownCaffeLayers.Contains(type) ? $"has type '{type}', a Caffe layer NeuralBuild does not support yet"
            : $"has type '{type}', which is not a layer type of BVLC Caffe or SSD (a custom layer of a Caffe fork?)";
        return DiagnosticCodes.CaffeUnsupportedLayer.Exception(location, $"layer '{layer.Layer.Name}' {why}.");
    }

    private void InputLayer(CaffeLayer layer)
    {
        var p = layer.Layer;
        var shapes = p.InputParam?.Shape ?? [];
        if (p.Top.Count == 0)
        {
            throw Invalid(layer, "type", "an Input layer needs at least one top.");
        }

        if (shapes.Count != 1 && shapes.Count != p.Top.Count)
        {
            throw DiagnosticCodes.CaffeBadInput.Exception(_map.Of(p.InputParam ?? (IMessage)layer.Source, "shape"),
                $"Input layer '{p.Name}' has {p.Top.Count} top(s) and {shapes.Count} shape(s); give one shape for all tops or one per top.");
        }

        for (var i = 0; i < p.Top.Count; i++)
        {
            var location = _map.Of(layer.Source, "top", i);
            if (_current.ContainsKey(p.Top[i]))
            {
                throw DiagnosticCodes.CaffeDuplicateTop.Exception(location, $"Input layer '{p.Name}' declares '{p.Top[i]}', which already exists.");
            }

            var shape = shapes[shapes.Count == 1 ? 0 : i];
            AddInput(p.Top[i], [.. shape.Dim], location, d => _map.Of(shape, BlobShape.DimFieldNumber, d));
        }
    }

    private void Convolution(CaffeLayer layer, bool transposed)
    {
        var p = layer.Layer;
        var c = p.ConvolutionParam ?? throw Invalid(layer, "type", $"a {p.Type} layer needs convolution_param {{ num_output … kernel_size … }}.");
        var input = Bottoms(layer, 1, 1)[0];
        var x = RequireImage(layer, input);
        if (c.Axis != 1)
        {
            throw UnsupportedOption(layer, c, "axis", $"convolution over axis {c.Axis}; only the channel axis 1 of N x C x H x W inputs is supported.");
        }

        if (!c.HasNumOutput || c.NumOutput == 0)
        {
            throw Invalid(layer, c, "num_output", "num_output must be given and positive.");
        }

        AtMostExtent(layer, c, "num_output", c.NumOutput);
        var (kh, kw) = Pair(layer, c, c.KernelSize, "kernel_size", c.HasKernelH, c.HasKernelW, c.KernelH, c.KernelW, "kernel_h", "kernel_w", fallback: null);
        var (sh, sw) = Pair(layer, c, c.Stride, "stride", c.HasStrideH, c.HasStrideW, c.StrideH, c.StrideW, "stride_h", "stride_w", fallback: 1);
        var (ph, pw) = Pair(layer, c, c.Pad, "pad", c.HasPadH, c.HasPadW, c.PadH, c.PadW, "pad_h", "pad_w", fallback: 0, allowZero: true);
        var (dh, dw) = Pair(layer, c, c.Dilation, "dilation", false, false, 0, 0, "dilation", "dilation", fallback: 1);
        var group = (long)c.Group;
        var outputs = (long)c.NumOutput;
        if (group <= 0 || x.C % group != 0 || outputs % group != 0)
        {
            throw Invalid(layer, c, "group", $"group {group} must divide the {x.C} input channels and num_output {outputs}.");
        }

        var weightShape = transposed ? new Shape(x.C, outputs / group, kh, kw) : new Shape(outputs, x.C / group, kh, kw);
        var inputs = new List<string> { input, Param(layer, 0, "weights", weightShape) };
        if (c.BiasTerm)
        {
            inputs.Add(Param(layer, 1, "bias", new Shape(outputs)));
        }

        Emit(layer, transposed ? "ConvTranspose" : "Conv", inputs, 1, configure: a => a
            .Set("kernel_shape", [kh, kw])
            .Set("strides", [sh, sw])
            .Set("pads", [ph, pw, ph, pw])
            .Set("dilations", [dh, dw])
            .Set("group", group));
    }

    /// <summary>
    /// Caffe's rule for a 2-D size given as a repeated field (one value for both axes, or h then w)
    /// or as the *_h / *_w pair (the two spellings exclude each other; an unset half is 0).
    /// </summary>
    private (long H, long W) Pair(CaffeLayer layer, IMessage message, Google.Protobuf.Collections.RepeatedField<uint> values, string field, bool hasH, bool hasW, uint h, uint w,
        string hField, string wField, long? fallback, bool allowZero = false)
    {
        if (hasH || hasW)
        {
            if (values.Count > 0)
            {
                throw Invalid(layer, message, hField, $"give either {field} or {hField}/{wField}, not both.");
            }

            if (!allowZero && !(hasH && hasW))
            {
                throw Invalid(layer, message, hasH ? hField : wField, $"{hField} and {wField} must be given together.");
            }

            return Check(layer, message, (hField, 0), (wField, 0), h, w, allowZero);
        }

        switch (values.Count)
        {
            case 0 when fallback is not null:
                return (fallback.Value, fallback.Value);
            case 0:
                throw Invalid(layer, message, field, $"{field} (or {hField} and {wField}) must be given.");
            case 1:
                return Check(layer, message, (field, 0), (field, 0), values[0], values[0], allowZero);
            case 2:
                return Check(layer, message, (field, 0), (field, 1), values[0], values[1], allowZero);
            default:
                throw UnsupportedOption(layer, message, field, $"{values.Count} values for {field}: {values.Count}-D convolution; only 2-D is supported.");
        }
    }

    /// <summary>Both halves of a 2-D size: positive (or 0 when allowed) and at most 2^20, refused where the bad half was written.</summary>
    private (long, long) Check(CaffeLayer layer, IMessage message, (string Field, int Index) hAt, (string Field, int Index) wAt, uint h, uint w, bool allowZero)
    {
        foreach (var (value, at) in new[] { (h, hAt), (w, wAt) })
        {
            if (value == 0 && !allowZero)
            {
                throw Invalid(layer, message, at.Field, at.Index, $"{at.Field} must be positive (got {h} x {w}).");
            }

            if (value > ModelLimits.MaxExtent)
            {
                throw Invalid(layer, message, at.Field, at.Index, $"{at.Field} {value} is too large: {ModelLimits.ExtentLimitReason}.");
            }
        }

        return (h, w);
    }

    /// <summary>A count field (num_output, local_size, num_classes) at most 2^20, refused at its value.</summary>
    private void AtMostExtent(CaffeLayer layer, IMessage message, string field, long value)
    {
        if (value > ModelLimits.MaxExtent)
        {
            throw Invalid(layer, message, field, $"{field} {value} is too large: {ModelLimits.ExtentLimitReason}.");
        }
    }

    /// <summary>An axis field, in [-rank, rank) as Caffe's CanonicalAxisIndex requires; refused at its value otherwise.</summary>
    private long Axis(CaffeLayer layer, IMessage message, string field, long axis, Shape x) =>
        axis >= -x.Rank && axis < x.Rank
            ? (axis < 0 ? axis + x.Rank : axis)
            : throw Invalid(layer, message, field, $"{field} {axis} does not exist in the bottom {x} (Caffe accepts {-x.Rank} to {x.Rank - 1}).");

    private void InnerProduct(CaffeLayer layer)
    {
        var p = layer.Layer;
        var ip = p.InnerProductParam ?? throw Invalid(layer, "type", "an InnerProduct layer needs inner_product_param { num_output … }.");
        var input = Bottoms(layer, 1, 1)[0];
        var x = _shapes[input];
        if (!ip.HasNumOutput || ip.NumOutput == 0)
        {
            throw Invalid(layer, ip, "num_output", "num_output must be given and positive.");
        }

        AtMostExtent(layer, ip, "num_output", ip.NumOutput);

        if (ip.Axis != 1 && ip.Axis != 1 - x.Rank)
        {
            throw UnsupportedOption(layer, ip, "axis", $"axis {ip.Axis}: only axis 1 (flatten everything but the batch) is supported.");
        }

        var inputsPerItem = x.ElementsPerItem;
        var outputs = (long)ip.NumOutput;
        var weightShape = ip.Transpose ? new Shape(inputsPerItem, outputs) : new Shape(outputs, inputsPerItem);
        var inputs = new List<string> { input, Param(layer, 0, "weights", weightShape) };
        if (ip.BiasTerm)
        {
            inputs.Add(Param(layer, 1, "bias", new Shape(outputs)));
        }

        Emit(layer, "FullyConnected", inputs, 1, configure: a => a.Set("transpose", ip.Transpose ? 1L : 0L).Set("output_rank", 2L));
    }

    private void BatchNorm(CaffeLayer layer)
    {
        var p = layer.Layer;
        var bn = p.BatchNormParam ?? new BatchNormParameter();
        var input = Bottoms(layer, 1, 1)[0];
        var x = _shapes[input];
        var channels = x.Rank > 1 ? x[1] : 1;

        // Blobs: mean and variance sums, and the moving-average factor that divides them
        // (docs/fusion.md). The factor is folded into the statistics, not a parameter.
        var mean = Param(layer, 0, "mean", new Shape(channels));
        var variance = Param(layer, 1, "variance", new Shape(channels));
        layer.Blobs.Add(new CaffeBlobSlot(2, "moving_average_factor", null, new Shape(1)));
        var useGlobal = !bn.HasUseGlobalStats || bn.UseGlobalStats;
        Emit(layer, "BatchNormalization", [input, string.Empty, string.Empty, mean, variance], 1, configure: a => a
            .Set("epsilon", (double)bn.Eps)
            .Set("epsilon_placement", "inside")
            .Set("use_global_stats", useGlobal ? 1L : 0L));
    }

    private void ScaleLayer(CaffeLayer layer)
    {
        var p = layer.Layer;
        var s = p.ScaleParam ?? new ScaleParameter();
        var input = Bottoms(layer, 1, 2)[0];
        if (p.Bottom.Count == 2)
        {
            throw UnsupportedOption(layer, layer.Source, "bottom", 1, "a Scale layer with two bottoms (the scale comes from a second blob) is not supported yet; only the learned per-channel scale is.");
        }

        var channels = PerChannel(layer, s, s.Axis, s.NumAxes, input);
        var inputs = new List<string> { input, Param(layer, 0, "scale", new Shape(channels)) };
        if (s.BiasTerm)
        {
            inputs.Add(Param(layer, 1, "bias", new Shape(channels)));
        }

        Emit(layer, "ChannelAffine", inputs, 1);
    }

    private void BiasLayer(CaffeLayer layer)
    {
        var p = layer.Layer;
        var b = p.BiasParam ?? new BiasParameter();
        var input = Bottoms(layer, 1, 2)[0];
        if (p.Bottom.Count == 2)
        {
            throw UnsupportedOption(layer, layer.Source, "bottom", 1, "a Bias layer with two bottoms is not supported yet; only the learned per-channel bias is.");
        }

        var channels = PerChannel(layer, b, b.Axis, b.NumAxes, input);
        Emit(layer, "ChannelAffine", [input, string.Empty, Param(layer, 0, "bias", new Shape(channels))], 1);
    }

    private long PerChannel(CaffeLayer layer, IMessage parameters, int axis, int numAxes, string input)
    {
        var x = _shapes[input];
        if (axis != 1 || numAxes != 1 || x.Rank < 2)
        {
            throw UnsupportedOption(layer, parameters, axis != 1 ? "axis" : "num_axes",
                $"axis {axis} with num_axes {numAxes} on {x}: only one value per channel (axis 1, num_axes 1) is supported.");
        }

        return x[1];
    }

    private void PRelu(CaffeLayer layer)
    {
        var input = Bottoms(layer, 1, 1)[0];
        var x = _shapes[input];
        var shared = layer.Layer.PreluParam?.ChannelShared ?? false;
        var slope = Param(layer, 0, "slope", new Shape(shared ? 1 : (x.Rank > 1 ? x[1] : 1)));
        Emit(layer, "Activation", [input, slope], 1, configure: a => a.Set("function", "prelu").Set("channel_shared", shared ? 1L : 0L));
    }

    private void Pooling(CaffeLayer layer)
    {
        var p = layer.Layer;
        var pp = p.PoolingParam ?? new PoolingParameter();
        var input = Bottoms(layer, 1, 1)[0];
        RequireImage(layer, input);
        var op = pp.Pool switch
        {
            PoolingParameter.Types.PoolMethod.Max => "MaxPool",
            PoolingParameter.Types.PoolMethod.Ave => "AveragePool",
            _ => throw UnsupportedOption(layer, pp, "pool", $"pool: {pp.Pool.ToString().ToUpperInvariant()} (stochastic pooling) is not supported; MAX and AVE are."),
        };

        if (pp.GlobalPooling)
        {
            if (pp.HasKernelSize || pp.HasKernelH || pp.HasKernelW)
            {
                throw Invalid(layer, pp, "global_pooling", "with global_pooling the kernel is the whole input; do not give kernel_size (Caffe refuses it).");
            }

            if (pp.Pad != 0 || pp.PadH != 0 || pp.PadW != 0 || pp.Stride != 1 || (pp.HasStrideH && pp.StrideH != 1) || (pp.HasStrideW && pp.StrideW != 1))
            {
                throw Invalid(layer, pp, "global_pooling", "global pooling takes no padding and stride 1.");
            }

            Emit(layer, op == "MaxPool" ? "GlobalMaxPool" : "GlobalAveragePool", [input], 1);
            return;
        }

        long kh, kw;
        if (pp.HasKernelH || pp.HasKernelW)
        {
            if (pp.HasKernelSize || !(pp.HasKernelH && pp.HasKernelW))
            {
                throw Invalid(layer, pp, pp.HasKernelSize ? "kernel_size" : "kernel_h", "give either kernel_size or both kernel_h and kernel_w.");
            }

            (kh, kw) = (pp.KernelH, pp.KernelW);
        }
        else if (pp.HasKernelSize)
        {
            (kh, kw) = (pp.KernelSize, pp.KernelSize);
        }
        else
        {
            throw Invalid(layer, pp, "pool", "a Pooling layer needs kernel_size (or kernel_h and kernel_w) unless global_pooling is true.");
        }

        if (kh == 0 || kw == 0)
        {
            throw Invalid(layer, pp, "kernel_size", "the kernel must be positive.");
        }

        long ph = pp.Pad, pw = pp.Pad;
        if (pp.HasPadH || pp.HasPadW)
        {
            if (pp.HasPad)
            {
                throw Invalid(layer, pp, "pad", "give either pad or pad_h/pad_w, not both.");
            }

            (ph, pw) = (pp.PadH, pp.PadW);
        }

        long sh = pp.Stride, sw = pp.Stride;
        if (pp.HasStrideH || pp.HasStrideW)
        {
            if (pp.HasStride || !(pp.HasStrideH && pp.HasStrideW))
            {
                throw Invalid(layer, pp, pp.HasStride ? "stride" : "stride_h", "give either stride or both stride_h and stride_w.");
            }

            (sh, sw) = (pp.StrideH, pp.StrideW);
        }

        if (sh == 0 || sw == 0)
        {
            throw Invalid(layer, pp, "stride", "the stride must be positive.");
        }

        foreach (var (value, field) in new[] { (kh, pp.HasKernelH ? "kernel_h" : "kernel_size"), (kw, pp.HasKernelW ? "kernel_w" : "kernel_size"), (sh, pp.HasStrideH ? "stride_h" : "stride"), (sw, pp.HasStrideW ? "stride_w" : "stride") })
        {
            AtMostExtent(layer, pp, field, value);
        }

        if (kh * kw > ModelLimits.MaxElements)
        {
            throw Invalid(layer, pp, pp.HasKernelSize ? "kernel_size" : "kernel_h",
                $"the {kh}x{kw} window covers more than {ModelLimits.MaxElements:N0} (2^31 - 1) elements, NeuralBuild's limit for one tensor.");
        }

        if (ph >= kh || pw >= kw)
        {
            throw Invalid(layer, pp, "pad", $"padding {ph}x{pw} must be smaller than the kernel {kh}x{kw} (Caffe checks pad < kernel).");
        }

        var rounding = pp.RoundMode == PoolingParameter.Types.RoundMode.Floor ? "floor" : "ceil_caffe";
        Emit(layer, op, [input], 1, configure: a =>
        {
            a.Set("kernel_shape", [kh, kw])
             .Set("strides", [sh, sw])
             .Set("pads", [ph, pw, ph, pw])
             .Set("rounding", rounding);
            if (op == "AveragePool")
            {
                // Caffe divides by the window clipped to the padded input: padding counts, the
                // part of a rounded-up window beyond the padding does not.
                a.Set("count_include_pad", 1L);
            }
        });
    }

    private void EltwiseLayer(CaffeLayer layer)
    {
        var p = layer.Layer;
        var e = p.EltwiseParam ?? new EltwiseParameter();
        var inputs = Bottoms(layer, 2, int.MaxValue);
        if (e.Coeff.Count > 0 && (e.Operation != EltwiseParameter.Types.EltwiseOp.Sum || e.Coeff.Count != inputs.Count))
        {
            throw Invalid(layer, e, "coeff", $"{e.Coeff.Count} coefficient(s) for {inputs.Count} bottoms: coeff applies to SUM only, one per bottom.");
        }

        var (operation, arithmetic) = e.Operation switch
        {
            EltwiseParameter.Types.EltwiseOp.Prod => ("prod", "mul"),
            EltwiseParameter.Types.EltwiseOp.Max => ("max", "max"),
            _ => ("sum", "add"),
        };
        if (inputs.Count == 2 && e.Coeff.All(c => c == 1) && _shapes[inputs[0]].Equals(_shapes[inputs[1]]))
        {
            // Two blobs of one shape, unweighted (ResNet's residual sums): the canonical element-wise op.
            Emit(layer, "Arithmetic", inputs, 1, configure: a => a.Set("operation", arithmetic));
            return;
        }

        Emit(layer, "Eltwise", inputs, 1, configure: a =>
        {
            a.Set("operation", operation);
            if (e.Coeff.Count > 0)
            {
                a.Set("coeffs", e.Coeff.Select(c => (double)c).ToArray());
            }
        });
    }

    private void ConcatLayer(CaffeLayer layer)
    {
        var c = layer.Layer.ConcatParam ?? new ConcatParameter();
        if (c.HasAxis && c.HasConcatDim)
        {
            throw Invalid(layer, c, "concat_dim", "give either axis or concat_dim, not both.");
        }

        var axis = c.HasConcatDim ? (long)c.ConcatDim : c.Axis;
        var inputs = Bottoms(layer, 1, int.MaxValue);
        Axis(layer, c, c.HasConcatDim ? "concat_dim" : "axis", axis, _shapes[inputs[0]]);
        Emit(layer, "Concat", inputs, 1, configure: a => a.Set("axis", axis));
    }

    private void SliceLayer(CaffeLayer layer)
    {
        var s = layer.Layer.SliceParam ?? new SliceParameter();
        if (s.HasAxis && s.HasSliceDim)
        {
            throw Invalid(layer, s, "slice_dim", "give either axis or slice_dim, not both.");
        }

        var axis = s.HasSliceDim ? (long)s.SliceDim : s.Axis;
        var tops = layer.Layer.Top.Count;
        if (tops < 1)
        {
            throw Invalid(layer, "type", "a Slice layer needs at least one top.");
        }

        var input = Bottoms(layer, 1, 1)[0];
        var x = _shapes[input];
        var length = x[(int)Axis(layer, s, s.HasSliceDim ? "slice_dim" : "axis", axis, x)];
        if (s.SlicePoint.Count > 0 && s.SlicePoint.Count != tops - 1)
        {
            throw Invalid(layer, s, "slice_point", $"{s.SlicePoint.Count} slice_point(s) for {tops} tops; give one fewer than the tops.");
        }

        for (var i = 0; i < s.SlicePoint.Count; i++)
        {
            var previous = i == 0 ? 0 : s.SlicePoint[i - 1];
            if (s.SlicePoint[i] <= previous || s.SlicePoint[i] >= length)
            {
                throw Invalid(layer, s, "slice_point", i,
                    $"slice_point {s.SlicePoint[i]} must lie after {previous} and before {length}, the length of axis {axis} of {x}: slice points increase strictly and every slice is non-empty.");
            }
        }

        Emit(layer, "Slice", [input], tops, configure: a => a.Set("axis", axis).Set("slice_points", s.SlicePoint.Select(v => (long)v).ToArray()));
    }

    private void ReshapeLayer(CaffeLayer layer)
    {
        var r = layer.Layer.ReshapeParam ?? throw Invalid(layer, "type", "a Reshape layer needs reshape_param { shape { dim … } }.");
        var dims = r.Shape?.Dim.ToArray() ?? [];
        var inputs = Bottoms(layer, 1, 1);
        var x = _shapes[inputs[0]];
        if (dims.Length > MaxAxes)
        {
            throw DiagnosticCodes.CaffeInvalidParameter.Exception(_map.Of(r.Shape, BlobShape.DimFieldNumber, MaxAxes),
                $"layer '{layer.Layer.Name}' [Reshape]: {dims.Length} dims; a Caffe blob has at most {MaxAxes} axes (Caffe's kMaxBlobAxes).");
        }

        var bad = Array.FindIndex(dims, d => d < -1 || d > ModelLimits.MaxElements);
        var inferred = Array.FindAll(dims, d => d == -1).Length;
        if (bad >= 0 || inferred > 1)
        {
            var at = bad >= 0 ? bad : Array.LastIndexOf(dims, -1L);
            throw DiagnosticCodes.CaffeInvalidParameter.Exception(_map.Of(r.Shape, BlobShape.DimFieldNumber, at),
                $"layer '{layer.Layer.Name}' [Reshape]: dim {dims[at]}: " + (bad >= 0
                    ? $"a dim is 0 (copy the bottom's), -1 (infer) or a size of at most {ModelLimits.MaxElements:N0}."
                    : "only one dim may be -1 (inferred)."));
        }

        // Caffe: axis in [-(rank + 1), rank], num_axes -1 (to the end) or a count of the axes left.
        var start = r.Axis < 0 ? r.Axis + x.Rank + 1 : r.Axis;
        if (start < 0 || start > x.Rank)
        {
            throw Invalid(layer, r, "axis", $"axis {r.Axis} is outside {-(x.Rank + 1)} to {x.Rank} for the bottom {x}.");
        }

        if (r.NumAxes < -1 || (r.NumAxes >= 0 && start + r.NumAxes > x.Rank))
        {
            throw Invalid(layer, r, "num_axes", $"num_axes {r.NumAxes} selects axes beyond the {x.Rank} of the bottom {x} from axis {r.Axis}.");
        }

        Emit(layer, "Reshape", inputs, 1, configure: a => a.Set("shape", dims).Set("axis", (long)r.Axis).Set("num_axes", (long)r.NumAxes), forceInPlace: true);
    }

    private void FlattenLayer(CaffeLayer layer)
    {
        var f = layer.Layer.FlattenParam ?? new FlattenParameter();
        var inputs = Bottoms(layer, 1, 1);
        var x = _shapes[inputs[0]];
        var start = Axis(layer, f, "axis", f.Axis, x);
        if (Axis(layer, f, "end_axis", f.EndAxis, x) < start)
        {
            throw Invalid(layer, f, "end_axis", $"end_axis {f.EndAxis} comes before axis {f.Axis} in the bottom {x}.");
        }

        Emit(layer, "Flatten", inputs, 1, configure: a => a.Set("axis", (long)f.Axis).Set("end_axis", (long)f.EndAxis), forceInPlace: true);
    }

    private void PermuteLayer(CaffeLayer layer)
    {
        var order = layer.Layer.PermuteParam?.Order ?? [];
        var inputs = Bottoms(layer, 1, 1);
        var x = _shapes[inputs[0]];
        var seen = new HashSet<uint>();
        for (var i = 0; i < order.Count; i++)
        {
            if (order[i] >= x.Rank || !seen.Add(order[i]))
            {
                throw Invalid(layer, layer.Layer.PermuteParam!, "order", i,
                    $"order {order[i]} {(order[i] >= x.Rank ? $"is not an axis of the bottom {x}" : "is given twice")}; order lists distinct axes 0 to {x.Rank - 1}.");
            }
        }

        Emit(layer, "Permute", inputs, 1, configure: a => a.Set("order", order.Select(o => (long)o).ToArray()));
    }

    private void SoftmaxLayer(CaffeLayer layer)
    {
        var softmax = layer.Layer.SoftmaxParam ?? new SoftmaxParameter();
        var inputs = Bottoms(layer, 1, 1);
        Axis(layer, softmax, "axis", softmax.Axis, _shapes[inputs[0]]);
        Emit(layer, "Softmax", inputs, 1, configure: a => a.Set("axis", (long)softmax.Axis));
    }

    private void Lrn(CaffeLayer layer)
    {
        var l = layer.Layer.LrnParam ?? new LRNParameter();
        if (l.LocalSize == 0 || l.LocalSize % 2 == 0)
        {
            throw Invalid(layer, l, "local_size", $"local_size must be odd and positive (got {l.LocalSize}).");
        }

        AtMostExtent(layer, l, "local_size", l.LocalSize);

        Unary(layer, "LRN", a => a
            .Set("size", (long)l.LocalSize)
            .Set("alpha", (double)l.Alpha)
            .Set("beta", (double)l.Beta)
            .Set("kappa", (double)l.K)
            .Set("region", l.NormRegion == LRNParameter.Types.NormRegion.WithinChannel ? "within_channel" : "across_channels"));
    }

    private void NormalizeLayer(CaffeLayer layer)
    {
        var n = layer.Layer.NormParam ?? new NormalizeParameter();
        var input = Bottoms(layer, 1, 1)[0];
        var x = RequireImage(layer, input);
        var scale = Param(layer, 0, "scale", new Shape(n.ChannelShared ? 1 : x.C));
        Emit(layer, "Normalize", [input, scale], 1, configure: a => a
            .Set("across_spatial", n.AcrossSpatial ? 1L : 0L)
            .Set("channel_shared", n.ChannelShared ? 1L : 0L)
            .Set("epsilon", (double)n.Eps));
    }

    private void PriorBoxLayer(CaffeLayer layer)
    {
        var pb = layer.Layer.PriorBoxParam ?? throw Invalid(layer, "type", "a PriorBox layer needs prior_box_param { min_size … }.");
        var inputs = Bottoms(layer, 2, 2);
        RequireImage(layer, inputs[0]);
        RequireImage(layer, inputs[1]);
        if (pb.MinSize.Count == 0 || pb.MinSize.Any(m => m <= 0))
        {
            throw Invalid(layer, pb, "min_size", "PriorBox needs at least one positive min_size.");
        }

        if (pb.MaxSize.Count > 0 && (pb.MaxSize.Count != pb.MinSize.Count || pb.MaxSize.Zip(pb.MinSize).Any(m => m.First <= m.Second)))
        {
            throw Invalid(layer, pb, "max_size", "max_size must be given once per min_size and be larger than it.");
        }

        if (pb.Variance.Count is not (0 or 1 or 4))
        {
            throw Invalid(layer, pb, "variance", $"give 1 or 4 variance values (got {pb.Variance.Count}).");
        }

        Emit(layer, "PriorBox", inputs, 1, configure: a =>
        {
            a.Set("min_sizes", pb.MinSize.Select(v => (double)v).ToArray())
             .Set("aspect_ratios", pb.AspectRatio.Select(v => (double)v).ToArray())
             .Set("flip", pb.Flip ? 1L : 0L)
             .Set("clip", pb.Clip ? 1L : 0L)
             .Set("variances", pb.Variance.Count > 0 ? pb.Variance.Select(v => (double)v).ToArray() : [0.1])
             .Set("offset", (double)pb.Offset);
            if (pb.MaxSize.Count > 0)
            {
                a.Set("max_sizes", pb.MaxSize.Select(v => (double)v).ToArray());
            }

            if (pb.HasStep || pb.HasStepH)
            {
                a.Set("steps", [(double)(pb.HasStep ? pb.Step : pb.StepH), (double)(pb.HasStep ? pb.Step : pb.StepW)]);
            }
        });
    }

    private void DetectionOutputLayer(CaffeLayer layer)
    {
        var d = layer.Layer.DetectionOutputParam ?? throw Invalid(layer, "type", "a DetectionOutput layer needs detection_output_param { num_classes … }.");
        if (!d.HasNumClasses || d.NumClasses == 0)
        {
            throw Invalid(layer, d, "num_classes", "num_classes must be given and positive.");
        }

        AtMostExtent(layer, d, "num_classes", d.NumClasses);
        if (d.BackgroundLabelId < -1 || d.BackgroundLabelId >= d.NumClasses)
        {
            throw Invalid(layer, d, "background_label_id", $"background_label_id {d.BackgroundLabelId} is not one of the {d.NumClasses} classes (or -1 for none).");
        }

        if (d.KeepTopK < -1)
        {
            throw Invalid(layer, d, "keep_top_k", $"keep_top_k {d.KeepTopK} must be -1 (keep all) or a count.");
        }

        if (d.NmsParam is { HasTopK: true, TopK: < -1 } nmsTopK)
        {
            throw Invalid(layer, nmsTopK, "top_k", $"top_k {nmsTopK.TopK} must be -1 (all) or a count.");
        }

        Emit(layer, "DetectionOutput", Bottoms(layer, 3, 3), 1, configure: a => a
            .Set("num_classes", (long)d.NumClasses)
            .Set("share_location", d.ShareLocation ? 1L : 0L)
            .Set("background_label_id", (long)d.BackgroundLabelId)
            .Set("keep_top_k", (long)d.KeepTopK)
            .Set("nms_threshold", (double)(d.NmsParam?.NmsThreshold ?? 0.3f))
            .Set("top_k", (long)(d.NmsParam is { HasTopK: true } nms ? nms.TopK : -1))
            .Set("confidence_threshold", (double)d.ConfidenceThreshold)
            .Set("code_type", d.CodeType.ToString())
            .Set("variance_encoded_in_target", d.VarianceEncodedInTarget ? 1L : 0L));
    }

    // ----------------------------------------------------------------------------------------
    // Plumbing.

    private void Unary(CaffeLayer layer, string op, Action<Attributes> configure, bool forceInPlace = false) =>
        Emit(layer, op, Bottoms(layer, 1, 1), 1, configure: configure, forceInPlace: forceInPlace);

    /// <summary>The IR values of the layer's bottoms, checking their number and that each exists.</summary>
    private List<string> Bottoms(CaffeLayer layer, int min, int max)
    {
        var p = layer.Layer;
        if (p.Bottom.Count < min || p.Bottom.Count > max)
        {
            var expected = min == max ? $"{min}" : max == int.MaxValue ? $"at least {min}" : $"{min} to {max}";
            throw Invalid(layer, p.Bottom.Count > 0 ? "bottom" : "type", $"a {p.Type} layer takes {expected} bottom(s) but '{p.Name}' has {p.Bottom.Count}.");
        }

        var values = new List<string>();
        for (var i = 0; i < p.Bottom.Count; i++)
        {
            var blob = p.Bottom[i];
            if (!_current.TryGetValue(blob, out var value))
            {
                throw DiagnosticCodes.CaffeUnknownBottom.Exception(_map.Of(layer.Source, "bottom", i),
                    $"layer '{p.Name}' reads bottom '{blob}', which no input or earlier layer of the TEST network produces{Suggest(blob)}.");
            }

            values.Add(value);
            _available.Remove(blob);
        }

        return values;
    }

    private string Suggest(string blob)
    {
        var close = _current.Keys.FirstOrDefault(k => string.Equals(k, blob, StringComparison.OrdinalIgnoreCase) || k.Replace('-', '_') == blob.Replace('-', '_'));
        return close is null ? string.Empty : $" (did you mean '{close}'?)";
    }

    private void Emit(CaffeLayer layer, string op, List<string> inputs, int outputs, Action<Attributes>? configure = null, bool forceInPlace = false)
    {
        var p = layer.Layer;
        if (p.Top.Count != outputs)
        {
            throw Invalid(layer, p.Top.Count > 0 ? "top" : "type", $"a {p.Type} layer produces {outputs} top(s) but '{p.Name}' lists {p.Top.Count}.");
        }

        var inPlace = p.Top.Count > 0 && p.Bottom.Count > 0 && p.Top[0] == p.Bottom[0];
        var outputValues = new List<string>();
        for (var i = 0; i < p.Top.Count; i++)
        {
            var top = p.Top[i];
            var rewritesBottom = p.Bottom.Contains(top);
            if (_current.ContainsKey(top) && !rewritesBottom)
            {
                throw DiagnosticCodes.CaffeDuplicateTop.Exception(_map.Of(layer.Source, "top", i),
                    $"layer '{p.Name}' produces '{top}', which an earlier layer or input already produces; only a layer computing in place (top == bottom) may write an existing blob.");
            }

            var value = _current.ContainsKey(top) ? Unique($"{top}@{p.Name}") : top;
            _usedNames.Add(value);
            outputValues.Add(value);
        }

        var node = new Node(p.Name, op, inputs, outputValues, layer.Origin) { InPlace = inPlace || forceInPlace };
        configure?.Invoke(node.Attributes);
        var kind = OpRegistry.Get(node);
        var shapes = kind.InferShapes(new OpContext(node, [.. inputs.Select(i => i.Length == 0 ? null : _shapes.GetValueOrDefault(i))]));
        for (var i = 0; i < outputValues.Count; i++)
        {
            if (!ModelLimits.FitsElementLimit(shapes[i]))
            {
                throw DiagnosticCodes.CaffeBlobTooLarge.Exception(layer.Origin.Location,
                    ModelLimits.ElementLimitReason($"layer '{p.Name}' [{p.Type}] top '{p.Top[i]}'", shapes[i]));
            }
        }

        for (var i = 0; i < outputValues.Count; i++)
        {
            _shapes[outputValues[i]] = shapes[i];
            _current[p.Top[i]] = outputValues[i];
            _blobOfValue[outputValues[i]] = p.Top[i];
            _available.Remove(p.Top[i]);
            _available.Add(p.Top[i]);
        }

        _graph.Nodes.Add(node);
        layer.Node = node.Name;
    }

    /// <summary>
    /// The initializer for blob <paramref name="index"/> of the layer. A blob named through
    /// <c>param {{ name: … }}</c> is shared by every layer that names it and stored once.
    /// </summary>
    private string Param(CaffeLayer layer, int index, string role, Shape shape)
    {
        var p = layer.Layer;
        string name;
        var shareName = index < p.Param.Count && p.Param[index].HasName && p.Param[index].Name.Length > 0 ? p.Param[index].Name : null;
        if (shareName is not null && _sharedParams.TryGetValue(shareName, out var shared))
        {
            if (!_graph.Initializers[shared].Shape.Equals(shape))
            {
                throw Invalid(layer, "param", $"shares parameter '{shareName}' of shape {_graph.Initializers[shared].Shape} but needs {shape} here.");
            }

            name = shared;
        }
        else
        {
            if (!ModelLimits.FitsElementLimit(shape))
            {
                throw DiagnosticCodes.CaffeBlobTooLarge.Exception(layer.Origin.Location, ModelLimits.ElementLimitReason($"layer '{p.Name}' [{p.Type}] {role}", shape));
            }

            name = Unique($"{p.Name}/{role}");
            _graph.Initializers[name] = new Initializer(name, shape, data: null);
            _shapes[name] = shape;
            _usedNames.Add(name);
            if (shareName is not null)
            {
                _sharedParams[shareName] = name;
            }
        }

        layer.Blobs.Add(new CaffeBlobSlot(index, role, name, shape));
        return name;
    }

    private string Unique(string candidate)
    {
        var name = candidate;
        for (var i = 2; _usedNames.Contains(name); i++)
        {
            name = string.Create(CultureInfo.InvariantCulture, $"{candidate}#{i}");
        }

        return name;
    }

    private Shape RequireImage(CaffeLayer layer, string value)
    {
        var x = _shapes[value];
        return x.Rank == 4
            ? x
            : throw DiagnosticCodes.ShapeMismatch.Exception(layer.Origin.Location,
                $"layer '{layer.Layer.Name}' [{layer.Layer.Type}] needs an image (N x C x H x W) but '{_blobOfValue[value]}' is {x}.");
    }

    private NeuralException Invalid(CaffeLayer layer, string field, string message) =>
        DiagnosticCodes.CaffeInvalidParameter.Exception(_map.Of(layer.Source, field), $"layer '{layer.Layer.Name}' [{layer.Layer.Type}]: {message}");

    private NeuralException Invalid(CaffeLayer layer, IMessage parameters, string field, string message) =>
        Invalid(layer, parameters, field, 0, message);

    private NeuralException Invalid(CaffeLayer layer, IMessage parameters, string field, int index, string message) =>
        DiagnosticCodes.CaffeInvalidParameter.Exception(_map.Of(parameters, field, index), $"layer '{layer.Layer.Name}' [{layer.Layer.Type}]: {message}");

    private NeuralException UnsupportedOption(CaffeLayer layer, IMessage parameters, string field, string message) =>
        UnsupportedOption(layer, parameters, field, 0, message);

    private NeuralException UnsupportedOption(CaffeLayer layer, IMessage parameters, string field, int index, string message) =>
        DiagnosticCodes.CaffeUnsupportedOption.Exception(_map.Of(parameters, field, index), $"layer '{layer.Layer.Name}' [{layer.Layer.Type}]: {message}");
}
