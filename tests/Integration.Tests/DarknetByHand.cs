namespace NeuralBuild.Integration.Tests;

/// <summary>
/// An independent, deliberately small reading of a Darknet cfg for the expected values of the
/// integration tests: follows shapes through [convolutional], [maxpool], [route], [upsample] and
/// [yolo] with darknet's own formulas and reports each conv layer's MACC and section line. It
/// shares no code with the engine.
/// </summary>
internal static class DarknetByHand
{
    public sealed record Layer(int Index, string Kind, int Line, int Column, long Macc);

    public static List<Layer> Layers(string cfgText)
    {
        var sections = new List<(string Kind, int Line, int Column, Dictionary<string, string> Options)>();
        var lines = cfgText.Replace("\r\n", "\n", StringComparison.Ordinal).Split('\n');
        for (var i = 0; i < lines.Length; i++)
        {
            var t = lines[i].Trim();
            if (t.Length == 0 || t[0] is '#' or ';')
            {
                continue;
            }

            if (t[0] == '[')
            {
                sections.Add((t.Trim('[', ']'), i + 1, lines[i].IndexOf('[', StringComparison.Ordinal) + 1, new Dictionary<string, string>()));
            }
            else
            {
                var eq = t.IndexOf('=', StringComparison.Ordinal);
                sections[^1].Options.TryAdd(t[..eq].Trim(), t[(eq + 1)..].Trim());
            }
        }

        long Int(Dictionary<string, string> o, string key, long fallback) => o.TryGetValue(key, out var v) ? long.Parse(v.Split(',')[0], System.Globalization.CultureInfo.InvariantCulture) : fallback;
        var net = sections[0].Options;
        var shapes = new List<(long C, long H, long W)>();
        var (c, h, w) = (Int(net, "channels", 3), Int(net, "height", 0), Int(net, "width", 0));
        var result = new List<Layer>();
        for (var s = 1; s < sections.Count; s++)
        {
            var (kind, line, column, o) = sections[s];
            var index = s - 1;
            long macc = 0;
            switch (kind)
            {
                case "convolutional":
                    var size = Int(o, "size", 1);
                    var stride = Int(o, "stride", 1);
                    var pad = Int(o, "pad", 0) == 1 ? size / 2 : Int(o, "padding", 0);
                    var filters = Int(o, "filters", 1);
                    var oh = ((h + (2 * pad) - size) / stride) + 1;
                    var ow = ((w + (2 * pad) - size) / stride) + 1;
                    macc = size * size * c * filters * oh * ow;
                    (c, h, w) = (filters, oh, ow);
                    break;
                case "maxpool":
                    var ps = Int(o, "size", 1);
                    var pst = Int(o, "stride", 1);
                    var padding = Int(o, "padding", ps - 1);
                    (h, w) = (((h + padding - ps) / pst) + 1, ((w + padding - ps) / pst) + 1);
                    break;
                case "upsample":
                    var us = Int(o, "stride", 2);
                    (h, w) = (h * us, w * us);
                    break;
                case "route":
                    var refs = o["layers"].Split(',').Select(r => long.Parse(r.Trim(), System.Globalization.CultureInfo.InvariantCulture)).Select(r => (int)(r < 0 ? index + r : r)).ToList();
                    c = refs.Sum(r => shapes[r].C);
                    (h, w) = (shapes[refs[0]].H, shapes[refs[0]].W);
                    break;
                case "yolo":
                    break;
                default:
                    throw new NotSupportedException($"DarknetByHand does not follow [{kind}].");
            }

            shapes.Add((c, h, w));
            result.Add(new Layer(index, kind, line, column, macc));
        }

        return result;
    }

    /// <summary>Rounded like the spec's examples: 3 significant figures, SI prefixes (<c>797.4 M</c>, <c>6.52 G</c>).</summary>
    public static string Rounded(long value)
    {
        string[] prefixes = ["", "k", "M", "G", "T"];
        double v = value;
        var i = 0;
        while (v >= 1000 && i < prefixes.Length - 1)
        {
            v /= 1000;
            i++;
        }

        var number = i == 0 ? value.ToString(System.Globalization.CultureInfo.InvariantCulture) : v.ToString(v >= 100 ? "0.#" : "0.##", System.Globalization.CultureInfo.InvariantCulture);
        return $"{number} {prefixes[i]}";
    }
}
