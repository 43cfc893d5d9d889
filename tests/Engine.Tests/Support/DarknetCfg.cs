using NeuralBuild.Engine.Analysis;
using NeuralBuild.Engine.Formats;
using NeuralBuild.Engine.Formats.Darknet;
using NeuralBuild.Engine.Ir;

namespace NeuralBuild.Engine.Tests.Support;

/// <summary>Reads models from cfg text written in a test, so each test shows the whole model it is about.</summary>
internal static class DarknetCfg
{
    public const string FileName = "test.cfg";

    public static Model Read(string text, ModelReadOptions? options = null, string path = FileName) =>
        new DarknetFormat().Read(CfgDocument.Parse(path, text), options ?? new ModelReadOptions());

    public static ModelReport Analyze(string text, string convention = "default", ModelReadOptions? options = null) =>
        CostModel.Analyze(Read(text, options), CountingConvention.Get(convention));

    /// <summary>The report row of the layer at <paramref name="index"/> (darknet's numbering from 0 after [net]).</summary>
    public static LayerReport Layer(this ModelReport report, int index) => report.Layers.Single(l => l.Index == index);

    /// <summary>1-based number of the first line equal to <paramref name="line"/> after trimming, as a person would count it.</summary>
    public static int LineOf(string text, string line, int occurrence = 1)
    {
        var lines = text.Replace("\r", string.Empty, StringComparison.Ordinal).Split('\n');
        var seen = 0;
        for (var i = 0; i < lines.Length; i++)
        {
            if (lines[i].Trim() == line && ++seen == occurrence)
            {
                return i + 1;
            }
        }

        throw new ArgumentException($"'{line}' does not occur {occurrence} time(s) in the cfg.", nameof(line));
    }
}
