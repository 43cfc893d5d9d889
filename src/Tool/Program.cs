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
            VerifyCommand.Create(),
            CheckCommand.Create(),
            BaselineAcceptCommand.Create(),
        };
        return root.Parse(args).Invoke();
    }
}
