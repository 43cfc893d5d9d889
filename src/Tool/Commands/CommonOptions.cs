using System.CommandLine;
using NeuralBuild.Engine.Analysis;
using NeuralBuild.Engine.Diagnostics;
using NeuralBuild.Engine.Formats;
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

    public static Argument<FileInfo> Model() =>
        new("model") { Description = $"Model definition: {ModelFormats.DefinitionKinds}." };

    /// <summary>The documented spelling of the format option <c>dialect</c>, described by the format that takes it.</summary>
    public static Option<string?> Dialect()
    {
        var (format, option) = ModelFormats.FindOption(DialectOption) ?? throw new InvalidOperationException("No format takes the dialect option.");
        return new("--dialect") { Description = $"{format.DisplayName}: {option.Description}. Same as --option {DialectOption}=…" };
    }

    private const string DialectOption = "dialect";

    public static Option<string[]> FormatOption() =>
        new("--option") { Description = "An option of the model's format, name=value (repeatable), e.g. --option dialect=pjreddie.", Arity = ArgumentArity.ZeroOrMore };

    /// <summary>The format options given with <c>--option</c> and <c>--dialect</c>, for the model's format to check.</summary>
    public static IReadOnlyDictionary<string, string> FormatOptions(ParseResult parse, Option<string?> dialect, Option<string[]> option)
    {
        ArgumentNullException.ThrowIfNull(parse);
        var pairs = (parse.GetValue(option) ?? []).ToList();
        if (parse.GetValue(dialect) is { Length: > 0 } text)
        {
            pairs.Add($"{DialectOption}={text}");
        }

        return Engine.Formats.FormatOptions.Parse(pairs, SourceLocation.None);
    }

    /// <summary>
    /// How to read <paramref name="definition"/>: its weights (<paramref name="weights"/>, else with
    /// <paramref name="weightsByConvention"/> the format's default path beside it, else none), the
    /// input shape and the format options of <c>--dialect</c> / <c>--option</c>.
    /// </summary>
    public static ModelReadOptions ReadOptions(ParseResult parse, FileInfo definition, FileInfo? weights, bool weightsByConvention, string? inputShape, Option<string?> dialect, Option<string[]> option)
    {
        ArgumentNullException.ThrowIfNull(definition);
        var format = ModelFormats.ForPath(definition.FullName);
        var options = new ModelReadOptions
        {
            WeightsPath = weights?.FullName ?? (weightsByConvention ? format.DefaultWeightsPath(definition.FullName) : null),
            InputShape = ParseShape(inputShape),
        };
        return format.WithFormatOptions(options, FormatOptions(parse, dialect, option), new SourceLocation(definition.FullName));
    }

    /// <summary>The formats of commands whose text output is a table and that also speak JSON.</summary>
    public static IReadOnlyList<string> TableOrJson { get; } = ["table", "json"];

    /// <summary><c>--format</c>, one of <paramref name="formats"/>, the first by default.</summary>
    public static Option<string> Format(IReadOnlyList<string> formats)
    {
        ArgumentNullException.ThrowIfNull(formats);
        var option = new Option<string>("--format") { Description = string.Join(", ", formats) + ".", DefaultValueFactory = _ => formats[0] };
        option.AcceptOnlyFromAmong([.. formats]);
        return option;
    }

    public static Option<string> Convention() =>
        new("--convention") { Description = "FLOP counting convention: " + string.Join(", ", CountingConvention.All.Select(c => c.Name)) + ".", DefaultValueFactory = _ => CountingConvention.Default.Name };

    public static Option<VerifyMode> Verify(VerifyMode fallback) =>
        new("--verify") { Description = "none, layers (each fold on a random patch) or model (whole model).", DefaultValueFactory = _ => fallback };

    public static Option<double> AbsoluteTolerance() =>
        new("--atol") { Description = "Absolute tolerance: |a-b| <= atol + rtol*|b|.", DefaultValueFactory = _ => 1e-5 };

    public static Option<double> RelativeTolerance() =>
        new("--rtol") { Description = "Relative tolerance: |a-b| <= atol + rtol*|b|.", DefaultValueFactory = _ => 1e-4 };

    public static Shape? ParseShape(string? text) => text is null ? null : Shape.Parse(text);
}
