using System.CommandLine;
using System.Globalization;
using System.Text;
using NeuralBuild.Engine.Analysis;
using NeuralBuild.Engine.Formats;
using NeuralBuild.Engine.Passes.Surgery;
using NeuralBuild.Engine.Pipeline;

namespace NeuralBuild.Tool.Commands;

/// <summary>
/// What <c>classes</c> and <c>edit</c> share: the options of a model to edit, the run (read, edit,
/// verify the edit against the source, write; no folds) and its report, <c>edit-report.md</c>.
/// </summary>
internal sealed class SurgeryRun
{
    public const string ReportFileName = "edit-report.md";

    private readonly Argument<FileInfo> _model = CommonOptions.Model();
    private readonly Option<DirectoryInfo> _output = new("--output", "-o") { Description = "Folder for the edited model and edit-report.md.", Required = true };
    private readonly Option<FileInfo?> _weights = CommonOptions.Weights();
    private readonly Option<string?> _input = CommonOptions.Input();
    private readonly Option<string?> _dialect = CommonOptions.Dialect();
    private readonly Option<string[]> _formatOption = CommonOptions.FormatOption();
    private readonly Option<VerifyMode> _verify = CommonOptions.Verify(VerifyMode.Model);
    private readonly Option<double> _atol = CommonOptions.AbsoluteTolerance();
    private readonly Option<double> _rtol = CommonOptions.RelativeTolerance();

    public Argument<FileInfo> Model => _model;

    /// <summary>A command with the shared options and <paramref name="options"/>; its action edits as <paramref name="surgery"/> says.</summary>
    public Command Create(string name, string description, IEnumerable<Option> options, Func<ParseResult, ModelSurgery> surgery)
    {
        var command = new Command(name, description) { _model, _output, _weights, _input, _dialect, _formatOption, _verify, _atol, _rtol };
        foreach (var option in options)
        {
            command.Options.Add(option);
        }

        command.SetAction(parse => CommandRunner.Run(parse, () =>
        {
            var outputDirectory = parse.GetValue(_output)!.FullName;
            var edits = surgery(parse);
            using var set = OutputSet.Begin(outputDirectory);
            var result = ModelOptimizer.Optimize(
                new OptimizeRequest
                {
                    DefinitionPath = parse.GetValue(_model)!.FullName,
                    WeightsPath = parse.GetValue(_weights)?.FullName,
                    InputShape = CommonOptions.ParseShape(parse.GetValue(_input)),
                    FormatOptions = CommonOptions.FormatOptions(parse, _dialect, _formatOption),
                    Verify = parse.GetValue(_verify) == VerifyMode.None ? VerifyMode.None : VerifyMode.Model,
                    AbsoluteTolerance = parse.GetValue(_atol),
                    RelativeTolerance = parse.GetValue(_rtol),
                    Fold = false,
                    Surgery = edits,
                    OutputDirectory = outputDirectory,
                },
                set);
            return ReportText.Publish(set, ReportFileName, Report(name, result), result.Warnings);
        }));
        return command;
    }

    internal static string Report(string command, OptimizeResult result)
    {
        var sb = new StringBuilder();
        sb.Append(CultureInfo.InvariantCulture, $"# {command} {Path.GetFileName(result.Before.ModelPath)}\n\n");
        sb.Append(CultureInfo.InvariantCulture, $"written: {result.OptimizedDefinitionPath}{(result.OptimizedWeightsPath == result.OptimizedDefinitionPath ? string.Empty : ", " + result.OptimizedWeightsPath)}\n\n");
        var applied = result.Passes.Applied.ToList();
        var refused = result.Passes.NotApplied.ToList();
        sb.Append(CultureInfo.InvariantCulture, $"## edits ({applied.Count})\n\n");
        foreach (var e in applied)
        {
            sb.Append(CultureInfo.InvariantCulture, $"- layer {e.Origin.Index} [{e.Origin.Kind}] ({ReportText.Where(e.Origin, e.Node)}) {e.Pass}: {e.Detail}\n");
        }

        if (refused.Count > 0)
        {
            sb.Append(CultureInfo.InvariantCulture, $"\n## not applied ({refused.Count})\n\n");
            foreach (var e in refused)
            {
                sb.Append(CultureInfo.InvariantCulture, $"- layer {e.Origin.Index} [{e.Origin.Kind}] ({ReportText.Where(e.Origin, e.Node)}) {e.Pass}: {e.Detail}\n");
            }
        }

        sb.Append("\n| metric | before | after | change |\n|---|---:|---:|---:|\n");
        ReportText.MetricRow(sb, "params", result.Before.Totals.Params, result.After.Totals.Params, HumanUnits.CountWithExact);
        ReportText.MetricRow(sb, "weights bytes", result.Before.Totals.WeightsBytes, result.After.Totals.WeightsBytes, HumanUnits.BytesWithExact);
        ReportText.MetricRow(sb, "macc", result.Before.Totals.Macc, result.After.Totals.Macc, HumanUnits.CountWithExact);
        sb.Append('\n').Append(result.SurgeryVerification is { } check ? "edit " + check.Summary() : "verification: none").Append('\n');
        return sb.ToString();
    }
}
