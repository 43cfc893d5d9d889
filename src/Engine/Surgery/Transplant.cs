using NeuralBuild.Engine.Diagnostics;
using NeuralBuild.Engine.Formats;
using NeuralBuild.Engine.Ir;

namespace NeuralBuild.Engine.Surgery;

/// <summary>What <see cref="Transplant.Run"/> is asked to do (<c>dotnet neural transplant</c>).</summary>
public sealed record TransplantRequest
{
    /// <summary>The seed of the initialisation when none is given: fixed, so a run repeats.</summary>
    public const int DefaultSeed = 15;

    /// <summary>The old (trained) model's definition: where the parameters come from.</summary>
    public required string FromDefinition { get; init; }

    /// <summary>Its weights; null: the format's default beside the definition.</summary>
    public string? FromWeights { get; init; }

    /// <summary>The new model's definition: what is written, in its format.</summary>
    public required string ToDefinition { get; init; }

    /// <summary>The new model's own weights, for what the old model does not give; null: initialise from the definition.</summary>
    public string? ToWeights { get; init; }

    /// <summary>A <see cref="TransplantMap"/> file pairing layers whose names differ; null: pair by name only.</summary>
    public string? MapPath { get; init; }

    /// <summary>Copy the overlapping part of paired parameters whose shapes differ, instead of nothing.</summary>
    public bool AllowPartial { get; init; }

    public int Seed { get; init; } = DefaultSeed;

    /// <summary>Format options (<c>dialect=pjreddie</c>); each model takes those its format knows (<see cref="IModelFormat.WithFormatOptions"/>).</summary>
    public IReadOnlyDictionary<string, string> FormatOptions { get; init; } = Formats.FormatOptions.None;
}

/// <summary>Where one parameter's values came from.</summary>
public enum ParameterSource
{
    /// <summary>The old model's parameter, bit for bit.</summary>
    Copied,

    /// <summary>The overlap with the old parameter copied (<see cref="TransplantRequest.AllowPartial"/>), the rest as below.</summary>
    CopiedInPart,

    /// <summary>The new model's own weights.</summary>
    NewWeights,

    /// <summary>Drawn by the definition's initialisation rule.</summary>
    Initialised,
}

/// <summary>How a layer of the new model was filled, as the report groups it.</summary>
public enum LayerOutcome
{
    Copied,
    CopiedInPart,

    /// <summary>Paired with an old layer whose parameters have other shapes: nothing copied.</summary>
    Mismatched,
    NewWeights,
    Initialised,

    /// <summary>Some parameters copied, others (the old layer lacks them) from the new weights or initialised.</summary>
    Mixed,
}

/// <summary>One parameter of a new layer and where its values came from.</summary>
/// <param name="Name">The new model's initializer.</param>
/// <param name="Role">Which input of which operation it is: "Conv[1]" (weights), "BatchNormalization[3]" (mean).</param>
/// <param name="Shape">Its shape in the new model.</param>
/// <param name="OldShape">The paired old parameter's shape; null when the old layer has none in this role.</param>
/// <param name="Source">Where its values came from.</param>
/// <param name="CopiedValues">How many values came from the old model.</param>
/// <param name="Rest">For values not copied: "new weights" or the initialisation rule.</param>
public sealed record TransplantedParameter(string Name, string Role, Shape Shape, Shape? OldShape, ParameterSource Source, long CopiedValues, string? Rest)
{
    public long Count => Shape.ElementCount;
}

public sealed record TransplantedLayer(string Name, string Kind, SourceLocation Location, string? OldLayer, LayerOutcome Outcome, IReadOnlyList<TransplantedParameter> Parameters)
{
    public long ParameterCount => Parameters.Sum(p => p.Count);

    public long CopiedValues => Parameters.Sum(p => p.CopiedValues);
}

public sealed record TransplantResult(
    string FromDefinition,
    string ToDefinition,
    string WrittenDefinition,
    string WrittenWeights,
    int Seed,
    IReadOnlyList<TransplantedLayer> Layers,
    IReadOnlyList<string> UnusedOldLayers,
    IReadOnlyList<Diagnostic> Warnings);

/// <summary>
/// Carries a trained model's parameters into a changed definition (issue 15, part 1), on the IR, for
/// any pair of formats. A layer is a source layer (<see cref="LayerOrigin.Name"/>: a Caffe layer, a
/// Darknet section, an ONNX node), with every initializer its nodes read: a Darknet convolution with
/// <c>batch_normalize=1</c> carries its BatchNorm statistics; Caffe's BatchNorm and Scale are layers
/// of their own and travel under their own names.
/// <list type="bullet">
/// <item>Each layer of the new model is paired with the old layer of the same name, or the one the map
/// names. Their parameters pair by role (the operation and its input slot). When every paired shape
/// is equal, the new layer takes the old values: the same <see cref="TensorData"/>, so they are written
/// bit for bit. When one differs, nothing of the layer is copied (NM2050), unless
/// <see cref="TransplantRequest.AllowPartial"/> copies each parameter's overlap, the leading
/// channels of every axis (NM2051).</item>
/// <item>Whatever is not copied comes from the new model's weights when given, else from the
/// definition's initialisation rule (<see cref="ParameterFiller"/>), drawn from one generator seeded
/// with <see cref="TransplantRequest.Seed"/> in the new model's layer order: the same seed gives the
/// same bytes. Without either, NM0372.</item>
/// <item>The new model is written in its own format by <see cref="IModelFormat.WriteParameters"/>; the
/// old model is only read.</item>
/// </list>
/// </summary>
public static class Transplant
{
    public static TransplantResult Run(TransplantRequest request, OutputSet output)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(output);
        RefuseSeparateWeights(request.FromDefinition, request.FromWeights, "--from-weights");
        RefuseSeparateWeights(request.ToDefinition, request.ToWeights, "--to-weights");
        var oldFormat = ModelFormats.ForPath(request.FromDefinition);
        var format = ModelFormats.ForPath(request.ToDefinition);
        var untaken = request.FormatOptions.Where(o => !Takes(oldFormat, o.Key) && !Takes(format, o.Key)).ToDictionary(o => o.Key, o => o.Value, StringComparer.Ordinal);
        FormatOptions.RequireKnown(format, untaken, [.. format.Options.Select(o => o.Name)], new SourceLocation(request.ToDefinition));
        var oldModel = ModelFormats.Read(request.FromDefinition, ReadOptions(oldFormat, request.FromDefinition, request.FromWeights ?? oldFormat.DefaultWeightsPath(request.FromDefinition), request.FormatOptions));
        var newModel = ModelFormats.Read(request.ToDefinition, ReadOptions(format, request.ToDefinition, request.ToWeights, request.FormatOptions));
        var map = request.MapPath is null ? TransplantMap.Empty : TransplantMap.Load(request.MapPath);

        var warnings = new List<Diagnostic>();
        var oldLayers = new Dictionary<string, SourceLayer>(StringComparer.Ordinal);
        foreach (var layer in SourceLayer.Collect(oldModel.Graph))
        {
            oldLayers.TryAdd(layer.Name, layer);
        }

        var newLayers = SourceLayer.Collect(newModel.Graph);
        CheckMap(map, newLayers, oldLayers, warnings);

        var random = new Random(request.Seed);
        var layers = new List<TransplantedLayer>();
        var used = new HashSet<string>(StringComparer.Ordinal);
        foreach (var layer in newLayers)
        {
            var old = oldLayers.GetValueOrDefault(map.OldLayerOf(layer.Name));
            if (old is not null)
            {
                used.Add(old.Name);
            }

            layers.Add(Fill(layer, old, request, random, warnings));
        }

        if (oldLayers.Count > 0 && layers.All(l => l.CopiedValues == 0))
        {
            warnings.Add(DiagnosticCodes.TransplantNothingCopied.At(new SourceLocation(request.ToDefinition),
                $"no layer of the new model took parameters from '{Path.GetFileName(request.FromDefinition)}': no layer names (or --map pairs) match with equal shapes. Pair the layers with --map."));
        }

        var definition = output.Stage(Path.GetFileName(request.ToDefinition));
        var weights = format.DefaultWeightsPath(definition);
        format.WriteParameters(newModel, definition, weights);
        return new TransplantResult(
            request.FromDefinition,
            request.ToDefinition,
            output.Final(definition),
            output.Final(weights),
            request.Seed,
            layers,
            [.. oldLayers.Keys.Where(n => !used.Contains(n))],
            warnings);
    }

    /// <summary>A format that keeps its weights in the definition (its default weights path is the definition itself) reads no other file: naming one is a mistake, not silently ignored.</summary>
    private static void RefuseSeparateWeights(string definition, string? weights, string option)
    {
        var format = ModelFormats.ForPath(definition);
        if (weights is not null && string.Equals(Path.GetFullPath(format.DefaultWeightsPath(definition)), Path.GetFullPath(definition), StringComparison.Ordinal))
        {
            throw DiagnosticCodes.TransplantWeightsInDefinition.Exception(new SourceLocation(weights),
                $"'{Path.GetFileName(definition)}' keeps its weights in itself ({format.DisplayName}): {option} names no file of it. Leave {option} out; the model's own weights are used.");
        }
    }

    private static bool Takes(IModelFormat format, string option) => format.Options.Any(o => o.Name == option);

    /// <summary>How to read one of the two models: its weights and the format options its format takes.</summary>
    private static ModelReadOptions ReadOptions(IModelFormat format, string definition, string? weights, IReadOnlyDictionary<string, string> formatOptions) =>
        format.WithFormatOptions(
            new ModelReadOptions { WeightsPath = weights },
            formatOptions.Where(o => Takes(format, o.Key)).ToDictionary(o => o.Key, o => o.Value, StringComparer.Ordinal),
            new SourceLocation(definition));

    private static void CheckMap(TransplantMap map, List<SourceLayer> newLayers, Dictionary<string, SourceLayer> oldLayers, List<Diagnostic> warnings)
    {
        var newNames = newLayers.Select(l => l.Name).ToHashSet(StringComparer.Ordinal);
        foreach (var (newName, oldName, where) in map.Pairs)
        {
            if (!newNames.Contains(newName))
            {
                warnings.Add(DiagnosticCodes.TransplantMapNamesMissingLayer.At(where, $"the new model has no layer '{newName}' with parameters; the line pairs nothing."));
            }
            else if (!oldLayers.ContainsKey(oldName))
            {
                warnings.Add(DiagnosticCodes.TransplantMapNamesMissingLayer.At(where, $"the old model has no layer '{oldName}' with parameters; the line pairs nothing."));
            }
        }
    }

    private static TransplantedLayer Fill(SourceLayer layer, SourceLayer? old, TransplantRequest request, Random random, List<Diagnostic> warnings)
    {
        var pairs = layer.Parameters.Select(p => (New: p, Old: old?.Parameters.FirstOrDefault(o => o.Role == p.Role))).ToList();
        var mismatched = pairs.Where(p => p.Old is not null && !p.Old.Initializer.Shape.Equals(p.New.Initializer.Shape)).ToList();
        var copy = old is not null && (mismatched.Count == 0 || request.AllowPartial);
        var notCopied = layer.Parameters.Any(p => p.Initializer.Data is not null) ? "taken from the new model's weights" : "initialised";
        if (old is not null && mismatched.Count > 0)
        {
            var shapes = string.Join("; ", mismatched.Select(p => $"{p.New.Role} is {p.New.Initializer.Shape} in the new model and {p.Old!.Initializer.Shape} in the old one"));
            warnings.Add(request.AllowPartial
                ? DiagnosticCodes.TransplantPartialCopy.At(layer.Location, $"layer '{layer.Name}' copied in part from '{old.Name}' (--allow-partial): {shapes}; the overlapping channels are copied, the rest {notCopied}.")
                : DiagnosticCodes.TransplantShapeMismatch.At(layer.Location, $"layer '{layer.Name}' takes no parameter from the old layer '{old.Name}': {shapes}. It is {notCopied} instead; --allow-partial copies the overlapping channels."));
        }

        if (old is not null)
        {
            var missing = pairs.Where(p => p.Old is null).Select(p => p.New.Role).ToList();
            var extra = old.Parameters.Where(o => layer.Parameters.All(p => p.Role != o.Role)).Select(o => o.Role).ToList();
            if (missing.Count > 0 || extra.Count > 0)
            {
                warnings.Add(DiagnosticCodes.TransplantParameterSetsDiffer.At(layer.Location,
                    $"layer '{layer.Name}' and the old layer '{old.Name}' hold different parameters ({(missing.Count > 0 ? $"only the new one has {string.Join(", ", missing)}" : string.Empty)}{(missing.Count > 0 && extra.Count > 0 ? "; " : string.Empty)}{(extra.Count > 0 ? $"only the old one has {string.Join(", ", extra)}" : string.Empty)}): {(missing.Count > 0 ? $"what the old one lacks is {notCopied}" : "the old one's other parameters are left behind")}."));
            }
        }

        var parameters = new List<TransplantedParameter>();
        foreach (var (parameter, counterpart) in pairs)
        {
            var target = parameter.Initializer;
            var oldValues = copy && counterpart is not null ? OldValues(counterpart, old!) : null;
            if (oldValues is not null && counterpart!.Initializer.Shape.Equals(target.Shape))
            {
                target.Data = oldValues;
                parameters.Add(new TransplantedParameter(target.Name, parameter.Role, target.Shape, counterpart.Initializer.Shape, ParameterSource.Copied, target.Shape.ElementCount, null));
                continue;
            }

            var (own, rest) = OwnValues(target, layer, random);
            if (oldValues is not null && counterpart!.Initializer.Shape.Rank == target.Shape.Rank)
            {
                var values = own.ToArray();
                var copied = Overlap.Copy(oldValues.ToArray(), counterpart.Initializer.Shape, values, target.Shape);
                target.Data = new ArrayData(values);
                parameters.Add(new TransplantedParameter(target.Name, parameter.Role, target.Shape, counterpart.Initializer.Shape, ParameterSource.CopiedInPart, copied, rest));
                continue;
            }

            target.Data = own;
            parameters.Add(new TransplantedParameter(target.Name, parameter.Role, target.Shape, counterpart?.Initializer.Shape, rest == NewWeights ? ParameterSource.NewWeights : ParameterSource.Initialised, 0, rest));
        }

        return new TransplantedLayer(layer.Name, layer.Kind, layer.Location, old?.Name, OutcomeOf(parameters, old is not null && mismatched.Count > 0), parameters);
    }

    private const string NewWeights = "new weights";

    private static LayerOutcome OutcomeOf(List<TransplantedParameter> parameters, bool mismatched)
    {
        if (parameters.Any(p => p.Source == ParameterSource.CopiedInPart))
        {
            return LayerOutcome.CopiedInPart;
        }

        if (mismatched)
        {
            return LayerOutcome.Mismatched;
        }

        var sources = parameters.Select(p => p.Source).Distinct().ToList();
        return sources.Count == 1
            ? sources[0] switch
            {
                ParameterSource.Copied => LayerOutcome.Copied,
                ParameterSource.NewWeights => LayerOutcome.NewWeights,
                _ => LayerOutcome.Initialised,
            }
            : LayerOutcome.Mixed;
    }

    /// <summary>The old model was read with its weights, which every reader checks are complete.</summary>
    private static TensorData OldValues(LayerParameter parameter, SourceLayer old) =>
        parameter.Initializer.Data
        ?? throw new InvalidOperationException($"the old model has no values for '{parameter.Initializer.Name}' of layer '{old.Name}' although it was read with its weights.");

    /// <summary>The new model's values for a parameter: its own weights, else drawn by its definition's rule.</summary>
    private static (TensorData Values, string Origin) OwnValues(Initializer target, SourceLayer layer, Random random)
    {
        if (target.Data is { } data)
        {
            return (data, NewWeights);
        }

        var filler = target.Filler ?? throw DiagnosticCodes.TransplantNeedsNewWeights.Exception(layer.Location,
            $"'{target.Name}' of layer '{layer.Name}' has no value: nothing of the old model is copied into it, no --to-weights gives it, and the definition states no initialisation for it. Give the new model's weights with --to-weights, or a --map line pairing '{layer.Name}' with an old layer.");
        return (new ArrayData(Fillers.Draw(filler, target, layer.Name, random)), filler.Description);
    }
}
