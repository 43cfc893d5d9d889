using System.CommandLine;
using NeuralBuild.Engine.Formats.Darknet;
using NeuralBuild.Engine.Ir;
using NeuralBuild.Engine.Pipeline;

namespace NeuralBuild.Tool.Commands;

/// <summary>Options several commands share, declared once so their spelling and help never drift.</summary>
internal static class CommonOptions
{
    public static Option<FileInfo?> Weights(string name = "--weights", string? description = null) =>
        new(name) { Description = description ?? "Weights file (default: the definition's base name with the format's weights extension)." };

    public static Option<string?> Input() =>
        new("--input") { Description = "Input shape N x C x H x W, e.g. 1x3x416x416 (default: the model's own, batch 1)." };

    public static Option<DarknetDialect> Dialect() =>
        new("--dialect") { Description = "Darknet BatchNorm arithmetic that counts as the original: alexeyab or pjreddie.", DefaultValueFactory = _ => DarknetDialect.AlexeyAB };

    public static Option<VerifyMode> Verify(VerifyMode fallback) =>
        new("--verify") { Description = "none, layers (each fold on a random patch) or model (whole model).", DefaultValueFactory = _ => fallback };

    public static Option<double> AbsoluteTolerance() =>
        new("--atol") { Description = "Absolute tolerance: |a-b| <= atol + rtol*|b|.", DefaultValueFactory = _ => 1e-5 };

    public static Option<double> RelativeTolerance() =>
        new("--rtol") { Description = "Relative tolerance: |a-b| <= atol + rtol*|b|.", DefaultValueFactory = _ => 1e-4 };

    public static Shape? ParseShape(string? text) => text is null ? null : Shape.Parse(text);
}
