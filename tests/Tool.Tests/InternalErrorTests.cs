using System.CommandLine;

namespace NeuralBuild.Tool.Tests;

/// <summary>
/// A bug (any exception that is not a coded NeuralException) escaping a command body: one NM9000
/// line naming the model and asking for a report, exit code 3, and the stack trace only with
/// <c>--verbose</c>. The body is a fake that throws, run through the runner every command uses.
/// </summary>
[TestClass]
public sealed class InternalErrorTests
{
    private static (int Exit, string[] Lines, string Text) RunFailing(params string[] args)
    {
        var model = new Argument<FileInfo>("model");
        var fake = new Command("fake") { model };
        var root = new RootCommand { fake };
        root.Options.Add(CommandRunner.Verbose);
        var parse = root.Parse(args);
        Assert.IsEmpty(parse.Errors, string.Join("\n", parse.Errors.Select(e => e.Message)));
        using var stderr = new StringWriter();
        var exit = CommandRunner.Run(parse, () => throw new InvalidOperationException("Sequence contains no elements"), stderr);
        var text = stderr.ToString();
        return (exit, text.Split('\n', StringSplitOptions.RemoveEmptyEntries), text);
    }

    [TestMethod]
    public void An_unexpected_exception_is_one_NM9000_line_naming_the_model_with_exit_code_3()
    {
        var (exit, lines, text) = RunFailing("fake", "models/yolo.cfg");

        Assert.AreEqual(3, exit);
        Assert.HasCount(1, lines, text);
        var path = Path.GetFullPath("models/yolo.cfg");
        Assert.StartsWith($"{path}: error NM9000: Internal error in NeuralBuild while processing 'yolo.cfg' (InvalidOperationException: Sequence contains no elements).", lines[0]);
        Assert.Contains("bug in NeuralBuild", lines[0]);
        Assert.Contains("report it with the model", lines[0]);
        Assert.Contains("--verbose", lines[0]);
        Assert.DoesNotContain("   at ", text);
    }

    [TestMethod]
    public void Verbose_adds_the_stack_trace_after_the_coded_line()
    {
        var (exit, lines, text) = RunFailing("fake", "yolo.cfg", "--verbose");

        Assert.AreEqual(3, exit);
        Assert.Contains("error NM9000: ", lines[0]);
        Assert.Contains("System.InvalidOperationException: Sequence contains no elements", text);
        Assert.Contains("   at ", text, "the stack trace");
        Assert.Contains(nameof(InternalErrorTests), text, "the frame that threw");
    }

    [TestMethod]
    public void A_file_system_failure_nobody_attributed_is_NM0072_with_exit_code_1()
    {
        var model = new Argument<FileInfo>("model");
        var root = new RootCommand { new Command("fake") { model } };
        using var stderr = new StringWriter();

        var exit = CommandRunner.Run(root.Parse(["fake", "m.cfg"]), () => throw new IOException("No space left on device : '/tmp/x'"), stderr);

        Assert.AreEqual(1, exit);
        Assert.AreEqual($"{Path.GetFullPath("m.cfg")}: error NM0072: No space left on device : '/tmp/x'", stderr.ToString().TrimEnd());
    }
}
