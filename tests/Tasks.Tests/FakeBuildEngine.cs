using System.Collections;
using System.Reflection;
using Microsoft.Build.Framework;

namespace NeuralBuild.Tasks.Tests;

/// <summary>Records what a task logs, the way MSBuild would print it.</summary>
internal sealed class FakeBuildEngine : IBuildEngine
{
    public List<BuildErrorEventArgs> Errors { get; } = [];

    public List<BuildWarningEventArgs> Warnings { get; } = [];

    public List<BuildMessageEventArgs> Messages { get; } = [];

    public bool ContinueOnError => false;

    public int LineNumberOfTaskNode => 0;

    public int ColumnNumberOfTaskNode => 0;

    public string ProjectFileOfTaskNode => "test.csproj";

    public void LogErrorEvent(BuildErrorEventArgs e) => Errors.Add(e);

    public void LogWarningEvent(BuildWarningEventArgs e) => Warnings.Add(e);

    private readonly Lock _messages = new();

    /// <summary>Thread-safe: a task run on another thread logs while the test looks (<see cref="Said"/>).</summary>
    public void LogMessageEvent(BuildMessageEventArgs e)
    {
        lock (_messages)
        {
            Messages.Add(e);
        }
    }

    /// <summary>Whether a message containing <paramref name="text"/> was logged (safe while the task runs).</summary>
    public bool Said(string text)
    {
        lock (_messages)
        {
            return Messages.Any(m => m.Message!.Contains(text, StringComparison.Ordinal));
        }
    }

    public void LogCustomEvent(CustomBuildEventArgs e)
    {
    }

    public bool BuildProjectFile(string projectFileName, string[] targetNames, IDictionary globalProperties, IDictionary targetOutputs) => throw new NotSupportedException();

    /// <summary>MSBuild's canonical line: <c>file(line,col): error CODE: message</c>.</summary>
    public static string Format(BuildErrorEventArgs e) => $"{e.File}({e.LineNumber},{e.ColumnNumber}): error {e.Code}: {e.Message}";

    /// <summary>
    /// The format arguments an event carries (MSBuild's internal RawArguments): an event with any is
    /// formatted again wherever it is read (another node, a binary log replay), without the task's
    /// culture or number format.
    /// </summary>
    public static object[]? FormatArguments(LazyFormattedBuildEventArgs e) =>
        (object[]?)typeof(LazyFormattedBuildEventArgs).GetProperty("RawArguments", BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic)!.GetValue(e);

    public string Describe() => string.Join("\n", Errors.Select(Format).Concat(Warnings.Select(w => $"{w.File}({w.LineNumber},{w.ColumnNumber}): warning {w.Code}: {w.Message}")));
}
