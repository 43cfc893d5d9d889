using System.CommandLine;
using NeuralBuild.Engine.Budgets;
using NeuralBuild.Engine.Diagnostics;
using NeuralBuild.Engine.Evaluation;

namespace NeuralBuild.Tool.Commands;

/// <summary>
/// What a lossy model is measured on and its agreement budget, for the commands that measure one:
/// <c>--inputs PATH</c> (a folder of .npy tensors and images, or one file; default: the seeded
/// synthetic input), how images are prepared (<c>--input-mean</c>, <c>--input-scale</c> or
/// <c>--input-std</c>, <c>--channel-order</c>, <c>--resize</c>), and <c>--min-top1-agreement</c>.
/// Spelled as the build's metadata (<c>EvaluationInputs</c>, <c>InputMean</c>, …, <c>MinTop1Agreement</c>).
/// </summary>
internal sealed class EvaluationOptions
{
    private readonly Option<string?> _inputs = new("--inputs") { Description = "A folder of .npy tensors and images (or one such file) to measure on, in ordinal order of the file names; default: seeded synthetic input(s)." };
    private readonly Option<string?> _mean = new("--input-mean") { Description = "Images: subtracted per channel from pixels in [0, 1], in the model's channel order, e.g. 0.485,0.456,0.406 (default 0)." };
    private readonly Option<string?> _scale = new("--input-scale") { Description = "Images: multiplies (pixel - mean) per channel (default 1)." };
    private readonly Option<string?> _std = new("--input-std") { Description = "Images: divides (pixel - mean) per channel, e.g. 0.229,0.224,0.225 (instead of --input-scale)." };
    private readonly Option<string?> _order = new("--channel-order") { Description = "Images: rgb (default) or bgr." };
    private readonly Option<string?> _resize = new("--resize") { Description = "Images: stretch (bilinear to the input's W x H, the default) or letterbox (aspect ratio kept, centred, grey border)." };
    private readonly Option<string?> _minTop1 = new("--min-top1-agreement") { Description = "Budget of a quantized export: the least share of inputs keeping the original's top-1 class on each classifier output, e.g. 99%. Under it: NM1011, exit 2." };

    /// <param name="command">The command that takes the options.</param>
    /// <param name="withAgreementBudget">Also <c>--min-top1-agreement</c> (commands that check a lossy export against budgets).</param>
    public void AddTo(Command command, bool withAgreementBudget = true)
    {
        foreach (var option in new[] { _inputs, _mean, _scale, _std, _order, _resize }.Concat(withAgreementBudget ? [_minTop1] : []))
        {
            command.Options.Add(option);
        }
    }

    /// <summary>The inputs given; null: the seeded synthetic input. Image options without --inputs are still checked.</summary>
    public EvaluationInputs? Inputs(ParseResult parse)
    {
        var where = new SourceLocation("dotnet-neural");
        var preprocessing = InputPreprocessing.Parse(parse.GetValue(_mean), parse.GetValue(_scale), parse.GetValue(_std), parse.GetValue(_order), parse.GetValue(_resize), where);
        return parse.GetValue(_inputs) is { } path ? EvaluationInputs.FromPath(Path.GetFullPath(path), preprocessing) : null;
    }

    /// <summary>--min-top1-agreement as a fraction; null when not given.</summary>
    public double? MinTop1Agreement(ParseResult parse) =>
        parse.GetValue(_minTop1) is { } text ? Top1AgreementBudget.Parse(text, new SourceLocation("dotnet-neural")) : null;
}
