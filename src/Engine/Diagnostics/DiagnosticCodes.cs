using System.Reflection;

namespace NeuralBuild.Engine.Diagnostics;

/// <summary>
/// Every code the engine, tasks and tool can emit. NM0xxx: input and configuration errors;
/// NM1xxx: budget and regression errors; NM2xxx: warnings; NM9xxx: internal errors (bugs in
/// NeuralBuild, never the user's fault). Each one is documented in
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
    public static readonly DiagnosticDescriptor InvalidFormatOption = Error("NM0005", "Format option unknown or invalid");

    // Darknet cfg.
    public static readonly DiagnosticDescriptor CfgMissingNet = Error("NM0010", "Darknet cfg does not start with [net]");
    public static readonly DiagnosticDescriptor CfgUnknownSection = Error("NM0011", "Unknown Darknet section");
    public static readonly DiagnosticDescriptor CfgSyntax = Error("NM0012", "Malformed Darknet cfg line");
    public static readonly DiagnosticDescriptor CfgNotNumeric = Error("NM0013", "Darknet option is not a number");
    public static readonly DiagnosticDescriptor CfgInvalidValue = Error("NM0014", "Darknet option out of range");
    public static readonly DiagnosticDescriptor CfgBadLayerReference = Error("NM0015", "Reference to a layer that does not exist");
    public static readonly DiagnosticDescriptor CfgUnsupportedLayer = Error("NM0016", "Darknet layer kind not supported");
    public static readonly DiagnosticDescriptor CfgNoLayers = Error("NM0017", "Darknet cfg has no layers");
    public static readonly DiagnosticDescriptor CfgTensorTooLarge = Error("NM0018", "Darknet layer makes a tensor beyond NeuralBuild's size limit");

    // Shapes.
    public static readonly DiagnosticDescriptor ShapeMismatch = Error("NM0020", "Tensor shapes do not fit together");
    public static readonly DiagnosticDescriptor ShapeNotPositive = Error("NM0021", "A layer produces an empty or negative shape");
    public static readonly DiagnosticDescriptor SizeOverflow = Error("NM0022", "Sizes overflow 64-bit integers");
    public static readonly DiagnosticDescriptor UnknownOperator = Error("NM0023", "The cost model does not know this layer kind");
    public static readonly DiagnosticDescriptor ParameterShapeMismatch = Error("NM0024", "Layer parameter shape does not fit its input");
    public static readonly DiagnosticDescriptor AttributeOutOfRange = Error("NM0025", "Layer attribute out of range");
    public static readonly DiagnosticDescriptor TensorTooLarge = Error("NM0026", "Tensor too large to execute");
    public static readonly DiagnosticDescriptor ReferencedFileMissing = Error("NM0027", "Layer needs a file the model refers to, which was not found");

    // Darknet weights.
    public static readonly DiagnosticDescriptor WeightsTruncated = Error("NM0030", "Weights file is shorter than the cfg requires");
    public static readonly DiagnosticDescriptor WeightsOversized = Error("NM0031", "Weights file is longer than the cfg requires");
    public static readonly DiagnosticDescriptor WeightsBadHeader = Error("NM0032", "Weights file header is invalid");

    // Darknet class trees (tree= of a hierarchical softmax).
    public static readonly DiagnosticDescriptor ClassTreeMalformed = Error("NM0034", "Darknet class tree file is malformed");

    // Budgets, baseline and build configuration (issue 4).
    public static readonly DiagnosticDescriptor InvalidQuantity = Error("NM0060", "Invalid budget quantity");
    public static readonly DiagnosticDescriptor InvalidRegressionLimit = Error("NM0061", "Invalid regression limit");
    public static readonly DiagnosticDescriptor InvalidModelVersion = Error("NM0062", "Invalid model version");
    public static readonly DiagnosticDescriptor BaselineUnreadable = Error("NM0063", "Baseline file cannot be read");
    public static readonly DiagnosticDescriptor BaselineUpdateRefusedInCi = Error("NM0064", "Baseline update refused in a CI build");
    public static readonly DiagnosticDescriptor UnsupportedMSBuildHost = Error("NM0065", "MSBuild host cannot run NeuralBuild");
    public static readonly DiagnosticDescriptor InvalidModelSetting = Error("NM0066", "Invalid NeuralModel setting");
    public static readonly DiagnosticDescriptor DuplicateModelName = Error("NM0067", "Two models share one name");
    public static readonly DiagnosticDescriptor MetricsUnavailable = Error("NM0068", "Model metrics are missing or unreadable");
    public static readonly DiagnosticDescriptor ExternalDataNotBuildable = Error("NM0069", "Model with external data cannot be built into the project");

    // Compression settings (issue 13).
    public static readonly DiagnosticDescriptor InvalidLowRankTarget = Error("NM0320", "Invalid low-rank target");

    // File system failures (issue 10): the path and the operating system's reason.
    public static readonly DiagnosticDescriptor CannotWriteOutput = Error("NM0070", "Cannot write output");
    public static readonly DiagnosticDescriptor CannotReadFile = Error("NM0071", "Cannot read model file");
    public static readonly DiagnosticDescriptor FileOperationFailed = Error("NM0072", "File operation failed");
    public static readonly DiagnosticDescriptor InvalidBuildProperty = Error("NM0073", "Invalid NeuralBuild property");

    // diff and profile (issue 14).
    public static readonly DiagnosticDescriptor InvalidProfileSetting = Error("NM0330", "Invalid profiling setting");

    // Internal errors (NM9000-NM9009).
    public static readonly DiagnosticDescriptor InternalError = Error("NM9000", "Internal error in NeuralBuild");

    // Budget and regression errors.
    public static readonly DiagnosticDescriptor BudgetExceeded = Error("NM1001", "Model exceeds a budget");
    public static readonly DiagnosticDescriptor RegressionExceeded = Error("NM1002", "Model regressed beyond the allowed increase over its baseline");
    public static readonly DiagnosticDescriptor BaselineMetricMissing = Error("NM1003", "Baseline entry lacks a metric");
    public static readonly DiagnosticDescriptor BaselineNewerModelVersion = Error("NM1004", "Baseline was recorded for a newer model version");
    public static readonly DiagnosticDescriptor ChangeBudgetExceeded = Error("NM1005", "Second model grew beyond the allowed change over the first");
    public static readonly DiagnosticDescriptor OutputErrorBudgetExceeded = Error("NM1010", "Lossy export's output error exceeds its budget");
    public static readonly DiagnosticDescriptor Top1AgreementBelowBudget = Error("NM1011", "Lossy export's top-1 agreement with the original is below its budget");

    // Warnings.
    public static readonly DiagnosticDescriptor BudgetWarning = Warning("NM2001", "Model exceeds a warning budget");
    public static readonly DiagnosticDescriptor BaselineEntryMissing = Warning("NM2002", "Model has no baseline entry");
    public static readonly DiagnosticDescriptor NoLayersMatched = Warning("NM2020", "The two models compared share no layer");
    public static readonly DiagnosticDescriptor ProfileSumDiverges = Warning("NM2021", "Per-layer times do not add up to the whole forward pass");


    // Caffe (NM0100-NM0149). Prototxt text: malformed text (NM0100, NM0101) is kept apart from
    // text that is well formed but names something this caffe.proto subset lacks (NM0102).
    public static readonly DiagnosticDescriptor PrototxtSyntax = Error("NM0100", "Malformed prototxt");
    public static readonly DiagnosticDescriptor PrototxtBadValue = Error("NM0101", "Prototxt value does not fit its field");
    public static readonly DiagnosticDescriptor PrototxtUnknownField = Error("NM0102", "Prototxt field not known to Caffe's schema");

    // Caffe network structure.
    public static readonly DiagnosticDescriptor CaffeNoInput = Error("NM0110", "Caffe net declares no input");
    public static readonly DiagnosticDescriptor CaffeBadInput = Error("NM0111", "Caffe input declaration is inconsistent");
    public static readonly DiagnosticDescriptor CaffeDuplicateLayer = Error("NM0112", "Two Caffe layers have the same name");
    public static readonly DiagnosticDescriptor CaffeUnknownBottom = Error("NM0113", "Caffe layer reads a blob no earlier layer produces");
    public static readonly DiagnosticDescriptor CaffeDuplicateTop = Error("NM0114", "Caffe blob produced by two layers");
    public static readonly DiagnosticDescriptor CaffeInvalidParameter = Error("NM0115", "Caffe layer parameter invalid");
    public static readonly DiagnosticDescriptor CaffeUnsupportedLayer = Error("NM0116", "Caffe layer type not supported");
    public static readonly DiagnosticDescriptor CaffeUnsupportedOption = Error("NM0117", "Caffe layer option not supported");
    public static readonly DiagnosticDescriptor CaffeBlobTooLarge = Error("NM0118", "Caffe layer makes a blob beyond NeuralBuild's size limit");

    // Caffe weights (.caffemodel).
    public static readonly DiagnosticDescriptor CaffemodelTruncated = Error("NM0130", "Caffemodel is truncated");
    public static readonly DiagnosticDescriptor CaffemodelMalformed = Error("NM0131", "Caffemodel is not a Caffe NetParameter");
    public static readonly DiagnosticDescriptor CaffemodelMissingLayer = Error("NM0132", "Caffemodel has no weights for a layer");
    public static readonly DiagnosticDescriptor CaffemodelBlobCount = Error("NM0133", "Caffemodel layer has the wrong number of blobs");
    public static readonly DiagnosticDescriptor CaffemodelBlobShape = Error("NM0134", "Caffemodel blob shape does not match the layer");

    // ONNX (NM0200-NM0249).
    public static readonly DiagnosticDescriptor OnnxMalformed = Error("NM0200", "ONNX file is truncated or not an ONNX model");
    public static readonly DiagnosticDescriptor OnnxOpsetUnsupported = Error("NM0201", "ONNX opset outside the supported range");
    public static readonly DiagnosticDescriptor OnnxUnsupportedOperator = Error("NM0202", "ONNX operator not supported");
    public static readonly DiagnosticDescriptor OnnxUnknownValue = Error("NM0203", "ONNX node reads a value nothing produces");
    public static readonly DiagnosticDescriptor OnnxDuplicateValue = Error("NM0204", "ONNX value produced more than once");
    public static readonly DiagnosticDescriptor OnnxCycle = Error("NM0205", "ONNX graph has a cycle");
    public static readonly DiagnosticDescriptor OnnxTensorSize = Error("NM0206", "ONNX tensor data does not match its dims");
    public static readonly DiagnosticDescriptor OnnxExternalDataRefused = Error("NM0207", "ONNX external data path leaves the model folder");
    public static readonly DiagnosticDescriptor OnnxExternalDataMissing = Error("NM0208", "ONNX external data file is missing or too short");
    public static readonly DiagnosticDescriptor OnnxInvalidAttribute = Error("NM0209", "ONNX node attribute invalid or not supported");
    public static readonly DiagnosticDescriptor OnnxUnsupportedDataType = Error("NM0210", "ONNX tensor data type not supported");
    public static readonly DiagnosticDescriptor OnnxBadGraphInput = Error("NM0211", "ONNX graph input has no usable shape");
    public static readonly DiagnosticDescriptor OnnxNonConstantInput = Error("NM0212", "ONNX node input must be constant");
    public static readonly DiagnosticDescriptor OnnxMissingInput = Error("NM0213", "ONNX node lacks a required input or output");
    public static readonly DiagnosticDescriptor OnnxExtraInput = Error("NM0214", "ONNX node has more inputs than its operator takes");
    public static readonly DiagnosticDescriptor OnnxTypeMismatch = Error("NM0215", "ONNX node input has an element type its operator does not take");

    // ONNX export (NM0300-NM0319).
    public static readonly DiagnosticDescriptor ExportOpsetUnsupported = Error("NM0300", "ONNX export opset outside the supported range");
    public static readonly DiagnosticDescriptor ExportOperatorUnsupported = Error("NM0301", "Layer has no ONNX lowering");
    public static readonly DiagnosticDescriptor ExportBinaryConvolution = Error("NM0302", "Binary (xnor) convolution is not exported to ONNX");
    public static readonly DiagnosticDescriptor ExportLocallyConnected = Error("NM0303", "Locally connected layer is not exported to ONNX");
    public static readonly DiagnosticDescriptor ExportNotExpressible = Error("NM0304", "Layer's parameters cannot be expressed exactly in ONNX");
    public static readonly DiagnosticDescriptor ExportNoWeights = Error("NM0305", "Model opened without weights cannot be exported");
    public static readonly DiagnosticDescriptor ExportRefused = Error("NM0306", "Model has layers ONNX export refused");
    public static readonly DiagnosticDescriptor ExportDetectionOutputRead = Error("NM0307", "DetectionOutput's result is read by another layer");
    public static readonly DiagnosticDescriptor ExportQuantizedExternalData = Error("NM0340", "Quantized weights cannot go to an external data file");
    public static readonly DiagnosticDescriptor QuantizeUnsupportedTarget = Error("NM0341", "The target format cannot store quantized weights");
    public static readonly DiagnosticDescriptor InvalidOutputErrorBudget = Error("NM0343", "Output error budget is not a percentage");

    // Model surgery: class subset, cut and rename (issue 15).
    public static readonly DiagnosticDescriptor InvalidClassSelection = Error("NM0360", "Invalid class selection");
    public static readonly DiagnosticDescriptor ClassOutOfRange = Error("NM0361", "Class index outside the model's classes");
    public static readonly DiagnosticDescriptor NoClassHead = Error("NM0362", "No class head the class subset can cut");
    public static readonly DiagnosticDescriptor UnknownClassName = Error("NM0363", "Class name not in the names file");
    public static readonly DiagnosticDescriptor UnknownEditTarget = Error("NM0364", "Edit names a layer or value the model does not have");
    public static readonly DiagnosticDescriptor RenameNotExpressible = Error("NM0365", "The model's format cannot rename its layers");
    public static readonly DiagnosticDescriptor InvalidEdit = Error("NM0366", "Invalid model edit");
    // Model surgery: transplant.
    public static readonly DiagnosticDescriptor TransplantMapMalformed = Error("NM0370", "Malformed line in a transplant map");
    public static readonly DiagnosticDescriptor TransplantMapDuplicate = Error("NM0371", "A transplant map pairs a layer twice");
    public static readonly DiagnosticDescriptor TransplantNeedsNewWeights = Error("NM0372", "A parameter of the new model has no value: its weights are required");
    public static readonly DiagnosticDescriptor TransplantUnsupportedFiller = Error("NM0373", "The definition initialises a parameter in a way NeuralBuild cannot reproduce");
    public static readonly DiagnosticDescriptor TransplantWeightsInDefinition = Error("NM0374", "A weights file was given for a model that keeps its weights in its definition");

    // Evaluation inputs (what a lossy model is measured on).
    public static readonly DiagnosticDescriptor NpyMalformed = Error("NM0375", "Malformed .npy file");
    public static readonly DiagnosticDescriptor NpyUnsupported = Error("NM0376", "Unsupported .npy file");
    public static readonly DiagnosticDescriptor ImageUndecodable = Error("NM0377", "Image file cannot be decoded");
    public static readonly DiagnosticDescriptor EvaluationInputMismatch = Error("NM0378", "Evaluation input does not fit the model's input");
    public static readonly DiagnosticDescriptor InvalidEvaluationSetting = Error("NM0379", "Invalid evaluation inputs or settings");

    // Pruning plans.
    public static readonly DiagnosticDescriptor InvalidPruneOption = Error("NM0380", "A prune-plan option is out of range");
    public static readonly DiagnosticDescriptor PruneCriterionNeedsBatchNorm = Error("NM0381", "Channels ranked by BatchNorm |gamma| in a layer without BatchNorm");
    public static readonly DiagnosticDescriptor PruneLayerNotFound = Error("NM0382", "prune-plan names a layer that is not a conv layer of the model");

    // Calibrated activation quantization (quantize=int8-static).
    public static readonly DiagnosticDescriptor ExportActivationNotCalibrated = Error("NM0383", "int8-static export of a value that was not calibrated");

    // Passes.
    public static readonly DiagnosticDescriptor VerificationFailed = Error("NM0041", "The optimised model does not compute what the original computes");
    public static readonly DiagnosticDescriptor NonFiniteStatistics = Error("NM0040", "BatchNorm or Scale parameters are not finite");

    // Warnings.
    public static readonly DiagnosticDescriptor NearZeroVariance = Warning("NM2003", "BatchNorm channel with near-zero variance");
    public static readonly DiagnosticDescriptor ExportNotRunInRuntime = Warning("NM2005", "Exported model not run in its runtime");
    public static readonly DiagnosticDescriptor RuntimeCheckFailed = Error("NM0042", "The runtime check of an exported model could not run");
    public static readonly DiagnosticDescriptor ExportDetectionOutputDropped = Warning("NM2010", "DetectionOutput left out of the ONNX export; its inputs are the outputs");
    public static readonly DiagnosticDescriptor ExportExternalData = Warning("NM2011", "ONNX export keeps the weights in an external data file");
    public static readonly DiagnosticDescriptor ExportFixedBatch = Warning("NM2012", "A layer fixes the batch size of a symbolic-batch ONNX export");
    public static readonly DiagnosticDescriptor ClassesRenormalised = Warning("NM2040", "A softmax over the classes now normalises over the kept classes only");
    public static readonly DiagnosticDescriptor BackgroundClassKept = Warning("NM2041", "The background class is kept although not asked for");
    public static readonly DiagnosticDescriptor TransplantShapeMismatch = Warning("NM2050", "Paired layers' parameters differ in shape: not copied");
    public static readonly DiagnosticDescriptor TransplantPartialCopy = Warning("NM2051", "Layer copied in part: the overlapping channels");
    public static readonly DiagnosticDescriptor TransplantMapNamesMissingLayer = Warning("NM2052", "A transplant map names a layer the model does not have");
    public static readonly DiagnosticDescriptor TransplantParameterSetsDiffer = Warning("NM2053", "Paired layers hold different parameters");
    public static readonly DiagnosticDescriptor TransplantNothingCopied = Warning("NM2054", "No parameter of the old model was copied");

    /// <summary>All descriptors declared above, by reflection so the list cannot drift.</summary>
    public static IReadOnlyList<DiagnosticDescriptor> All { get; } =
        typeof(DiagnosticCodes).GetFields(BindingFlags.Public | BindingFlags.Static)
            .Where(f => f.FieldType == typeof(DiagnosticDescriptor))
            .Select(f => (DiagnosticDescriptor)f.GetValue(null)!)
            .ToArray();
}
