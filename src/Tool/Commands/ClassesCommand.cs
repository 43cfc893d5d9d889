using System.CommandLine;
using NeuralBuild.Engine.Diagnostics;
using NeuralBuild.Engine.Passes.Surgery;

namespace NeuralBuild.Tool.Commands;

/// <summary>
/// <c>dotnet neural classes MODEL --weights W (--keep 0,1,2 | --keep-names keep.txt --names coco.names) --output DIR</c>:
/// keeps a subset of a detector's or classifier's classes (<see cref="KeepClasses"/>), checks that
/// the kept classes' scores equal the original's channel by channel, and writes the model in its format.
/// </summary>
internal static class ClassesCommand
{
    public static Command Create()
    {
        var run = new SurgeryRun();
        var keep = new Option<string?>("--keep") { Description = "Class indices to keep, e.g. 0,1,2 (SSD's background class is always kept)." };
        var keepNames = new Option<FileInfo?>("--keep-names") { Description = "File of class names to keep, one a line; looked up in --names." };
        var names = new Option<FileInfo?>("--names") { Description = "The model's class names, one a line in class order (such as coco.names); needed by --keep-names." };
        return run.Create("classes", "Keep a subset of a model's classes: slice the heads' channels and restate the class counts, verified.", [keep, keepNames, names], parse =>
        {
            var indices = parse.GetValue(keep);
            var keepFile = parse.GetValue(keepNames);
            var namesFile = parse.GetValue(names);
            if ((indices is null) == (keepFile is null))
            {
                throw DiagnosticCodes.InvalidClassSelection.Exception(SourceLocation.None, "give the classes to keep with --keep 0,1,2 or --keep-names FILE (with --names), one of the two.");
            }

            if (keepFile is not null && namesFile is null)
            {
                throw DiagnosticCodes.InvalidClassSelection.Exception(SourceLocation.None, "--keep-names needs --names, the model's class names in class order, to find each name's index.");
            }

            var classes = indices is not null ? ModelSurgery.ParseClasses(indices, SourceLocation.None) : ModelSurgery.ClassesByName(namesFile!.FullName, keepFile!.FullName);
            return new ModelSurgery { KeepClasses = classes };
        });
    }
}
