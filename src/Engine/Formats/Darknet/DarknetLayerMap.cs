using NeuralBuild.Engine.Diagnostics;

namespace NeuralBuild.Engine.Formats.Darknet;

/// <summary>
/// Every cfg section kind the reader knows, one entry each (aliases share their mapper): the mapper
/// turns the section into IR nodes and returns the value the layer outputs. Anything not listed is NM0011.
/// </summary>
internal static class DarknetLayerMap
{
    private static readonly Dictionary<string, Func<DarknetSection, string>> s_mappers = new(StringComparer.Ordinal)
    {
        ["convolutional"] = DarknetConvMapping.Convolutional,
        ["conv"] = DarknetConvMapping.Convolutional,
        ["deconvolutional"] = DarknetConvMapping.Deconvolutional,
        ["deconv"] = DarknetConvMapping.Deconvolutional,
        ["connected"] = DarknetConvMapping.Connected,
        ["conn"] = DarknetConvMapping.Connected,
        ["local"] = DarknetConvMapping.Local,
        ["batchnorm"] = DarknetConvMapping.StandaloneBatchNorm,

        ["maxpool"] = DarknetPoolMapping.MaxPool,
        ["max"] = DarknetPoolMapping.MaxPool,
        ["local_avgpool"] = DarknetPoolMapping.LocalAveragePool,
        ["local_avg"] = DarknetPoolMapping.LocalAveragePool,
        ["avgpool"] = DarknetPoolMapping.GlobalAveragePool,
        ["avg"] = DarknetPoolMapping.GlobalAveragePool,

        ["route"] = DarknetRoutingMapping.Route,
        ["shortcut"] = DarknetRoutingMapping.Shortcut,
        ["scale_channels"] = DarknetRoutingMapping.MultiplyFrom,
        ["sam"] = DarknetRoutingMapping.MultiplyFrom,
        ["upsample"] = DarknetRoutingMapping.Upsample,
        ["reorg"] = DarknetRoutingMapping.Reorg,
        ["reorg3d"] = DarknetRoutingMapping.Reorg,
        ["crop"] = DarknetRoutingMapping.Crop,

        ["softmax"] = DarknetElementwiseMapping.Softmax,
        ["soft"] = DarknetElementwiseMapping.Softmax,
        ["dropout"] = DarknetElementwiseMapping.Dropout,
        ["cost"] = DarknetElementwiseMapping.Identity,
        ["empty"] = DarknetElementwiseMapping.Identity,
        ["silence"] = DarknetElementwiseMapping.Identity,
        ["activation"] = DarknetElementwiseMapping.Activation,
        ["normalization"] = DarknetElementwiseMapping.LocalResponseNormalization,
        ["lrn"] = DarknetElementwiseMapping.LocalResponseNormalization,

        ["yolo"] = DarknetDetectionMapping.Yolo,
        ["Gaussian_yolo"] = DarknetDetectionMapping.GaussianYolo,
        ["region"] = DarknetDetectionMapping.Region,
        ["detection"] = DarknetDetectionMapping.Detection,
        ["contrastive"] = DarknetDetectionMapping.Contrastive,

        ["rnn"] = Recurrent,
        ["gru"] = Recurrent,
        ["lstm"] = Recurrent,
        ["crnn"] = Recurrent,
        ["conv_lstm"] = Recurrent,
        ["history"] = Recurrent,
        ["implicit"] = Implicit,
        ["net"] = SecondNet,
        ["network"] = SecondNet,
    };

    public static string Map(DarknetSection section) =>
        s_mappers.TryGetValue(section.Type, out var mapper)
            ? mapper(section)
            : throw DiagnosticCodes.CfgUnknownSection.Exception(section.Location,
                $"[{section.Type}] is not a Darknet layer kind (darknet says \"Type not recognized\"). Check the spelling.");

    private static string Recurrent(DarknetSection s) =>
        throw DiagnosticCodes.CfgUnsupportedLayer.Exception(s.Location,
            $"layer {s.Index} [{s.Type}] is recurrent; NeuralBuild analyses feed-forward models only.");

    private static string Implicit(DarknetSection s) =>
        throw DiagnosticCodes.CfgUnsupportedLayer.Exception(s.Location,
            $"layer {s.Index} [implicit] (learned constant tensor) is not supported yet.");

    private static string SecondNet(DarknetSection s) =>
        throw DiagnosticCodes.CfgSyntax.Exception(s.Location, "Only the first section may be [net].");
}
