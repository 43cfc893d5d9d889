using Google.Protobuf;
using NeuralBuild.Engine.Diagnostics;
using NeuralBuild.Engine.Formats.Caffe.Proto;
using NeuralBuild.Engine.Ir;

namespace NeuralBuild.Engine.Formats.Caffe;

/// <summary>
/// Translates a parsed prototxt into the IR as Caffe builds its TEST-phase network: layers are
/// filtered by their include/exclude rules, run in file order, and read blobs by name. One layer
/// becomes one node (named after the layer), or several when it is lowered into canonical operators
/// (an N-input or weighted Eltwise, a Slice: <see cref="CaffeLayer.Nodes"/>). A layer whose top is its bottom (in place) writes a
/// new version of the blob: the IR value is renamed so the graph stays single-assignment, the node
/// is marked <see cref="Node.InPlace"/>, and <see cref="CaffeModel.BlobOfValue"/> maps the version
/// back to the blob name. Shapes are inferred while building (weight shapes depend on the input).
/// Each layer is translated by its type's mapper in <see cref="CaffeLayerMap"/>.
/// Inputs come from <c>input</c> + <c>input_dim</c>, <c>input</c> + <c>input_shape</c> or Input layers;
/// their batch is set to 1 (docs/metrics.md: costs are per image) unless an input shape is given.
/// </summary>
internal sealed class CaffeGraphBuilder
{
    private readonly CaffeNetState _state;
    private readonly Dictionary<string, SourceLocation> _layerNames = new(StringComparer.Ordinal);

    private CaffeGraphBuilder(string path, NetParameter net, PrototxtSourceMap map, Shape? inputOverride) =>
        _state = new CaffeNetState(path, net, map, inputOverride);

    public static CaffeModel Build(string path, NetParameter net, PrototxtSourceMap map, Shape? inputOverride, out Graph graph)
    {
        var builder = new CaffeGraphBuilder(path, net, map, inputOverride);
        builder.BuildAll();
        graph = builder._state.Graph;
        return new CaffeModel(path, net, map, builder._state.Layers, builder._state.BlobOfValue);
    }

    private void BuildAll()
    {
        // Layer names too: the inner nodes of a lowered layer ("sum/term1") must not take another layer's name.
        foreach (var name in _state.Net.Layer.SelectMany(l => l.Top).Concat(_state.Net.Layers.SelectMany(l => l.Top)).Concat(_state.Net.Input)
            .Concat(_state.Net.Layer.Select(l => l.Name)).Concat(_state.Net.Layers.Select(l => l.Name)))
        {
            _state.UsedNames.Add(name);
        }

        CaffeInputMapping.DeclaredInputs(_state);

        if (_state.Net.Layer.Count > 0 && _state.Net.Layers.Count > 0)
        {
            throw DiagnosticCodes.PrototxtSyntax.Exception(_state.Map.Of(_state.Net, NetParameter.LayersFieldNumber),
                "the net mixes 'layer' and legacy 'layers' (V1) entries; Caffe refuses such a file. Use one kind.");
        }

        IEnumerable<(LayerParameter Layer, IMessage Source)> layers = _state.Net.Layers.Count > 0
            ? _state.Net.Layers.Select(v1 => (CaffeV1Upgrade.Upgrade(v1, _state.Map), (IMessage)v1))
            : _state.Net.Layer.Select(l => (l, (IMessage)l));

        foreach (var (layer, source) in layers)
        {
            if (!CaffePhase.IsIncluded(layer, _state.Net.State))
            {
                continue;
            }

            var location = _state.Map.Of(source);
            var name = layer.Name;
            if (_layerNames.TryGetValue(name, out var first))
            {
                throw DiagnosticCodes.CaffeDuplicateLayer.Exception(location,
                    $"a second layer is named '{name}' (the first is at {first}); Caffe matches weights to layers by name, so layer names must be unique in the TEST network.");
            }

            _layerNames[name] = location;
            var caffeLayer = new CaffeLayer(_state.Layers.Count, layer, source, new LayerOrigin(_state.Layers.Count, layer.Type, name, location));
            using (Checked.At(location))
            {
                var context = new CaffeLayerContext(_state, caffeLayer);
                CaffeLayerMap.Translate(context);
                context.Complete();
            }

            _state.Layers.Add(caffeLayer);
        }

        if (_state.Graph.Inputs.Count == 0)
        {
            throw DiagnosticCodes.CaffeNoInput.Exception(new SourceLocation(_state.Path, 1, 1),
                "the net declares no input: add 'input: \"data\"' with 'input_shape { dim: 1 dim: 3 dim: 224 dim: 224 }', or an Input layer. (Data layers read a database at training time; analyse the deploy prototxt.)");
        }

        if (_state.Graph.Nodes.Count == 0)
        {
            throw DiagnosticCodes.CaffeNoInput.Exception(new SourceLocation(_state.Path, 1, 1), "the net has inputs but no layers that compute anything.");
        }

        foreach (var blob in _state.Available)
        {
            var value = _state.Current[blob];
            if (!_state.Graph.Inputs.ContainsKey(value))
            {
                _state.Graph.Outputs.Add(value);
            }
        }
    }
}
