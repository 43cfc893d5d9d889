using Google.Protobuf;
using NeuralBuild.Engine.Diagnostics;
using NeuralBuild.Engine.Formats.Caffe.Proto;
using NeuralBuild.Engine.Ir;

namespace NeuralBuild.Engine.Formats.Caffe;

/// <summary>
/// The net's inputs: <c>input</c> + <c>input_dim</c>, <c>input</c> + <c>input_shape</c>, or Input layers.
/// Their batch is set to 1 (docs/metrics.md: costs are per image) unless an input shape is given.
/// </summary>
internal static class CaffeInputMapping
{
    public static void DeclaredInputs(CaffeNetState net)
    {
        var names = net.Net.Input;
        if (names.Count == 0)
        {
            if (net.Net.InputDim.Count > 0 || net.Net.InputShape.Count > 0)
            {
                throw DiagnosticCodes.CaffeBadInput.Exception(net.Map.Of(net.Net, net.Net.InputDim.Count > 0 ? NetParameter.InputDimFieldNumber : NetParameter.InputShapeFieldNumber),
                    "input_dim / input_shape without 'input': name the input blob with input: \"data\".");
            }

            return;
        }

        if (net.Net.InputShape.Count > 0 && net.Net.InputDim.Count > 0)
        {
            throw DiagnosticCodes.CaffeBadInput.Exception(net.Map.Of(net.Net, NetParameter.InputDimFieldNumber),
                "the net gives both input_shape and input_dim; Caffe accepts only one of them.");
        }

        for (var i = 0; i < names.Count; i++)
        {
            var location = net.Map.Of(net.Net, NetParameter.InputFieldNumber, i);
            long[] dims;
            Func<int, SourceLocation> dimLocation;
            if (net.Net.InputShape.Count > 0)
            {
                if (net.Net.InputShape.Count != names.Count)
                {
                    throw DiagnosticCodes.CaffeBadInput.Exception(net.Map.Of(net.Net, NetParameter.InputShapeFieldNumber),
                        $"{names.Count} input(s) but {net.Net.InputShape.Count} input_shape(s); give one input_shape per input.");
                }

                var shape = net.Net.InputShape[i];
                dims = [.. shape.Dim];
                dimLocation = d => net.Map.Of(shape, BlobShape.DimFieldNumber, d);
            }
            else if (net.Net.InputDim.Count > 0)
            {
                if (net.Net.InputDim.Count != 4 * names.Count)
                {
                    throw DiagnosticCodes.CaffeBadInput.Exception(net.Map.Of(net.Net, NetParameter.InputDimFieldNumber),
                        $"{names.Count} input(s) need {4 * names.Count} input_dim values (num, channels, height, width each) but {net.Net.InputDim.Count} are given.");
                }

                dims = [.. net.Net.InputDim.Skip(4 * i).Take(4).Select(d => (long)d)];
                var first = 4 * i;
                dimLocation = d => net.Map.Of(net.Net, NetParameter.InputDimFieldNumber, first + d);
            }
            else
            {
                throw DiagnosticCodes.CaffeBadInput.Exception(location,
                    $"input '{names[i]}' has no shape: add input_shape {{ dim: 1 dim: 3 dim: 224 dim: 224 }} (or pass --input).");
            }

            AddInput(net, names[i], dims, location, dimLocation);
        }
    }

    public static void AddInput(CaffeNetState net, string name, long[] declared, SourceLocation location, Func<int, SourceLocation> dimLocation)
    {
        if (declared.Length == 0)
        {
            throw DiagnosticCodes.CaffeBadInput.Exception(location, $"input '{name}' has no dimensions; give its shape with dim: values.");
        }

        if (declared.Length > CaffeNetState.MaxAxes)
        {
            throw DiagnosticCodes.CaffeBadInput.Exception(dimLocation(CaffeNetState.MaxAxes),
                $"input '{name}' has {declared.Length} dimensions; a Caffe blob has at most {CaffeNetState.MaxAxes} axes (Caffe's kMaxBlobAxes).");
        }

        var bad = Array.FindIndex(declared, d => d <= 0 || d > ModelLimits.MaxExtent);
        if (bad >= 0)
        {
            throw DiagnosticCodes.CaffeBadInput.Exception(dimLocation(bad),
                $"input '{name}' has the shape ({string.Join(", ", declared)}); " +
                (declared[bad] <= 0 ? "every dimension must be positive." : $"dimension {bad} ({declared[bad]}) is too large: {ModelLimits.ExtentLimitReason}."));
        }

        if (net.Current.ContainsKey(name))
        {
            throw DiagnosticCodes.CaffeDuplicateTop.Exception(location, $"input '{name}' is declared twice.");
        }

        // Costs are per image: the declared batch (10 in the BVLC deploy files) becomes 1; an
        // explicit input shape replaces the first input and sets the batch of the others.
        Shape shape;
        if (net.FirstInput && net.InputOverride is not null)
        {
            shape = net.InputOverride;
        }
        else
        {
            var dims = (long[])declared.Clone();
            dims[0] = net.InputOverride?.N ?? 1;
            shape = new Shape(dims);
        }

        net.FirstInput = false;
        if (!ModelLimits.FitsElementLimit(shape))
        {
            throw DiagnosticCodes.CaffeBlobTooLarge.Exception(location, ModelLimits.ElementLimitReason($"input '{name}'", shape));
        }

        net.Graph.Inputs[name] = shape;
        net.Shapes[name] = shape;
        net.Current[name] = name;
        net.BlobOfValue[name] = name;
    }

    public static void InputLayer(CaffeLayerContext layer)
    {
        var p = layer.P;
        var shapes = p.InputParam?.Shape ?? [];
        if (p.Top.Count == 0)
        {
            throw layer.Invalid("type", "an Input layer needs at least one top.");
        }

        if (shapes.Count != 1 && shapes.Count != p.Top.Count)
        {
            throw DiagnosticCodes.CaffeBadInput.Exception(layer.Map.Of(p.InputParam ?? (IMessage)layer.Layer.Source, "shape"),
                $"Input layer '{p.Name}' has {p.Top.Count} top(s) and {shapes.Count} shape(s); give one shape for all tops or one per top.");
        }

        for (var i = 0; i < p.Top.Count; i++)
        {
            var location = layer.Map.Of(layer.Layer.Source, "top", i);
            if (layer.Net.Current.ContainsKey(p.Top[i]))
            {
                throw DiagnosticCodes.CaffeDuplicateTop.Exception(location, $"Input layer '{p.Name}' declares '{p.Top[i]}', which already exists.");
            }

            var shape = shapes[shapes.Count == 1 ? 0 : i];
            AddInput(layer.Net, p.Top[i], [.. shape.Dim], location, d => layer.Map.Of(shape, BlobShape.DimFieldNumber, d));
        }
    }
}
