using System.Globalization;
using System.Text;
using NeuralBuild.Engine.Diagnostics;
using NeuralBuild.Engine.Formats;
using NeuralBuild.Engine.Ir;

namespace NeuralBuild.Tool.Commands;

/// <summary>The pieces the Markdown reports of <c>fuse</c>, <c>convert</c>, <c>transplant</c>, <c>classes</c> and <c>edit</c> share.</summary>
internal static class ReportText
{
    /// <summary>A "| metric | before | after | change |" row: both figures in <paramref name="format"/>, the change signed.</summary>
    public static void MetricRow(StringBuilder sb, string name, long before, long after, Func<long, string> format) =>
        sb.Append(CultureInfo.InvariantCulture, $"| {name} | {format(before)} | {format(after)} | {(after - before).ToString("+#,0;-#,0;0", CultureInfo.InvariantCulture)} |\n");

    /// <summary>
    /// Ends a command that writes a model: its report joins the output set (so it never describes
    /// files it was not written with), the set replaces the previous one, the report goes to stdout
    /// and the engine's warnings to stderr.
    /// </summary>
    public static int Publish(OutputSet set, string fileName, string report, IEnumerable<Diagnostic> warnings)
    {
        ArgumentNullException.ThrowIfNull(set);
        set.WriteText(fileName, report);
        set.Commit();
        Console.Out.Write(report);
        foreach (var warning in warnings)
        {
            Console.Error.WriteLine(warning.ToString());
        }

        return ExitCodes.Ok;
    }

    /// <summary>Where a layer is: its line, or for binary formats (ONNX), which have none, its node's name.</summary>
    public static string Where(LayerOrigin origin, string node) =>
        origin.Location.HasLine ? $"line {origin.Location.Line}" : $"'{node}'";
}
