using System.CommandLine;
using NeuralBuild.Tool.Commands;

namespace NeuralBuild.Tool;

public static class Program
{
    public static int Main(string[] args)
    {
        var root = new RootCommand("NeuralBuild: make CNN models fit their deployment budgets.")
        {
            InspectCommand.Create(),
            FuseCommand.Create(),
            ConvertCommand.Create(),
            VerifyCommand.Create(),
            CheckCommand.Create(),
            BaselineAcceptCommand.Create(),
            DiffCommand.Create(),
            ProfileCommand.Create(),
            ReportCommand.Create(),
            TransplantCommand.Create(),
            ClassesCommand.Create(),
            EditCommand.Create(),
            PrunePlanCommand.Create(),
        };
        root.Options.Add(CommandRunner.Verbose);
        var verbose = args.Contains(CommandRunner.Verbose.Name, StringComparer.Ordinal);
        try
        {
            // Command bodies report their own failures (CommandRunner.Run); this catches what escapes
            // parsing or System.CommandLine itself, which would otherwise print its own stack trace.
            return root.Parse(args).Invoke(new InvocationConfiguration { EnableDefaultExceptionHandler = false });
        }
        catch (Exception e)
        {
            return CommandRunner.Report(e, null, verbose, Console.Error);
        }
    }
}
