using System.CommandLine;
using NeuralBuild.Engine.Budgets;
using NeuralBuild.Engine.Diagnostics;

namespace NeuralBuild.Tool.Commands;

/// <summary>
/// One option per budget setting (<c>--max-macc</c>, <c>--warn-params</c>, <c>--max-macc-increase</c>, …),
/// spelled as the item metadata, for the commands that take a model's budgets.
/// </summary>
internal sealed class BudgetOptions
{
    private readonly Dictionary<string, Option<string?>> _options = BudgetSettings.SettingNames.ToDictionary(
        name => name,
        name => new Option<string?>("--" + CheckCommand.Kebab(name)) { Description = $"As the {name} metadata / Neural{name} property." });

    public void AddTo(Command command)
    {
        ArgumentNullException.ThrowIfNull(command);
        foreach (var option in _options.Values)
        {
            command.Options.Add(option);
        }
    }

    /// <summary>
    /// The budgets given; each invalid one is an NM0060/NM0061 in <paramref name="errors"/>. A setting these
    /// commands have no option for (MaxOutputError: they write no quantized export) is not set.
    /// </summary>
    public BudgetSettings Parse(ParseResult parse, ICollection<Diagnostic> errors) =>
        BudgetSettings.Parse(name => _options.TryGetValue(name, out var option) ? parse.GetValue(option) : null, new SourceLocation("dotnet-neural"), errors);
}
