using System.Reflection;

namespace NeuralBuild.Engine.Diagnostics;

/// <summary>
/// Every code the engine, tasks and tool can emit. NM0xxx: input and configuration errors;
/// NM1xxx: budget and regression errors; NM2xxx: warnings. Each one is documented in
/// docs/diagnostics.md (a test fails on an undocumented or duplicated code).
/// </summary>
public static class DiagnosticCodes
{
    private static DiagnosticDescriptor Error(string code, string title) => new(code, DiagnosticSeverity.Error, title);

    private static DiagnosticDescriptor Warning(string code, string title) => new(code, DiagnosticSeverity.Warning, title);

    // Files and formats.
    public static readonly DiagnosticDescriptor FileNotFound = Error("NM0001", "Model or weights file not found");
    public static readonly DiagnosticDescriptor UnknownFormat = Error("NM0002", "Unrecognised model format");
    public static readonly DiagnosticDescriptor InvalidInputShape = Error("NM0003", "Invalid input shape");
    public static readonly DiagnosticDescriptor UnknownConvention = Error("NM0004", "Unknown counting convention");

    // Darknet cfg.
    public static readonly DiagnosticDescriptor CfgMissingNet = Error("NM0010", "Darknet cfg does not start with [net]");
    public static readonly DiagnosticDescriptor CfgUnknownSection = Error("NM0011", "Unknown Darknet section");
    public static readonly DiagnosticDescriptor CfgSyntax = Error("NM0012", "Malformed Darknet cfg line");
    public static readonly DiagnosticDescriptor CfgNotNumeric = Error("NM0013", "Darknet option is not a number");
    public static readonly DiagnosticDescriptor CfgInvalidValue = Error("NM0014", "Darknet option out of range");
    public static readonly DiagnosticDescriptor CfgBadLayerReference = Error("NM0015", "Reference to a layer that does not exist");
    public static readonly DiagnosticDescriptor CfgUnsupportedLayer = Error("NM0016", "Darknet layer kind not supported");
    public static readonly DiagnosticDescriptor CfgNoLayers = Error("NM0017", "Darknet cfg has no layers");

    // Shapes.
    public static readonly DiagnosticDescriptor ShapeMismatch = Error("NM0020", "Tensor shapes do not fit together");
    public static readonly DiagnosticDescriptor ShapeNotPositive = Error("NM0021", "A layer produces an empty or negative shape");
    public static readonly DiagnosticDescriptor SizeOverflow = Error("NM0022", "Sizes overflow 64-bit integers");
    public static readonly DiagnosticDescriptor UnknownOperator = Error("NM0023", "The cost model does not know this layer kind");

    // Darknet weights.
    public static readonly DiagnosticDescriptor WeightsTruncated = Error("NM0030", "Weights file is shorter than the cfg requires");
    public static readonly DiagnosticDescriptor WeightsOversized = Error("NM0031", "Weights file is longer than the cfg requires");
    public static readonly DiagnosticDescriptor WeightsBadHeader = Error("NM0032", "Weights file header is invalid");


    // Passes.
    public static readonly DiagnosticDescriptor VerificationFailed = Error("NM0041", "The optimised model does not compute what the original computes");
    public static readonly DiagnosticDescriptor NonFiniteStatistics = Error("NM0040", "BatchNorm or Scale parameters are not finite");

    // Warnings.
    public static readonly DiagnosticDescriptor NearZeroVariance = Warning("NM2001", "BatchNorm channel with near-zero variance");

    /// <summary>All descriptors declared above, by reflection so the list cannot drift.</summary>
    public static IReadOnlyList<DiagnosticDescriptor> All { get; } =
        typeof(DiagnosticCodes).GetFields(BindingFlags.Public | BindingFlags.Static)
            .Where(f => f.FieldType == typeof(DiagnosticDescriptor))
            .Select(f => (DiagnosticDescriptor)f.GetValue(null)!)
            .ToArray();
}
