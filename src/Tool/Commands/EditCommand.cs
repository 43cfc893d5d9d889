using System.CommandLine;
using NeuralBuild.Engine.Diagnostics;
using NeuralBuild.Engine.Passes.Surgery;

namespace NeuralBuild.Tool.Commands;

/// <summary>
/// <c>dotnet neural edit MODEL [--weights W] (--outputs a,b | --remove-after LAYER) [--rename old=new …] --output DIR</c>:
/// cuts the model at new outputs (dropping what they do not need) and renames layers and values
/// consistently in definition and weights; the outputs are checked to equal the original's values.
/// </summary>
internal static class EditCommand
{
    public static Command Create()
    {
        var run = new SurgeryRun();
        var outputs = new Option<string?>("--outputs") { Description = "Values or layers that become the model's outputs, e.g. mbox_loc,mbox_conf_flatten,mbox_priorbox; layers without names by their index." };
        var removeAfter = new Option<string?>("--remove-after") { Description = "Remove every layer after this one (a name, or the index of a layer without names)." };
        var rename = new Option<string[]>("--rename") { Description = "old=new: rename a layer and the value of that name (repeatable); a format whose layers are numbered has no names to change.", Arity = ArgumentArity.ZeroOrMore };
        return run.Create("edit", "Cut a model at new outputs and rename layers, verified against the original.", [outputs, removeAfter, rename], parse =>
        {
            var surgery = new ModelSurgery
            {
                Outputs = parse.GetValue(outputs)?.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries),
                RemoveAfter = parse.GetValue(removeAfter),
                Renames = ModelSurgery.ParseRenames(parse.GetValue(rename) ?? [], SourceLocation.None),
            };
            return surgery.IsEmpty
                ? throw DiagnosticCodes.InvalidEdit.Exception(SourceLocation.None, "nothing to edit: give --outputs, --remove-after or --rename.")
                : surgery;
        });
    }
}
