using System.Globalization;
using System.Text.RegularExpressions;

namespace NeuralBuild.Fuzzer.Seeds;

/// <summary>
/// Makes a corpus prototxt cheap to fuzz while keeping every layer: batch 1 and a sixteenth of the
/// channels (<c>num_output</c> and <c>group</c> alike, so depthwise convolutions stay depthwise).
/// </summary>
public static partial class PrototxtShrinker
{
    private const int Divisor = 16;

    [GeneratedRegex(@"(?<key>num_output|group)(?<sep>\s*:\s*)(?<value>[0-9]+)")]
    private static partial Regex Channels();

    [GeneratedRegex(@"(?<key>input_dim|dim)(?<sep>\s*:\s*)(?<value>[0-9]+)")]
    private static partial Regex FirstDim();

    public static string Shrink(string prototxt)
    {
        ArgumentNullException.ThrowIfNull(prototxt);
        var shrunk = Channels().Replace(prototxt, m =>
            $"{m.Groups["key"].Value}{m.Groups["sep"].Value}{Math.Max(1, int.Parse(m.Groups["value"].Value, CultureInfo.InvariantCulture) / Divisor)}");

        // The first dim in the file is the input's batch.
        return FirstDim().Replace(shrunk, m => $"{m.Groups["key"].Value}{m.Groups["sep"].Value}1", 1);
    }
}
