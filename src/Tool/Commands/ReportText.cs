using System.Globalization;
using System.Text;
using NeuralBuild.Engine.Ir;

namespace NeuralBuild.Tool.Commands;

/// <summary>The pieces the Markdown reports of <c>fuse</c> and <c>convert</c> share.</summary>
internal static class ReportText
{
    /// <summary>A "| metric | before | after | change |" row: both figures in <paramref name="format"/>, the change signed.</summary>
    public static void MetricRow(StringBuilder sb, string name, long before, long after, Func<long, string> format) =>
        sb.Append(CultureInfo.InvariantCulture, $"| {name} | {format(before)} | {format(after)} | {(after - before).ToString("+#,0;-#,0;0", CultureInfo.InvariantCulture)} |\n");

    /// <summary>Where a layer is: its line, or for binary formats (ONNX), which have none, its node's name.</summary>
    public static string Where(LayerOrigin origin, string node) =>
        origin.Location.HasLine ? $"line {origin.Location.Line}" : $"'{node}'";
}
