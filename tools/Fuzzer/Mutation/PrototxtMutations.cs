using System.Text;
using System.Text.RegularExpressions;

namespace NeuralBuild.Fuzzer.Mutation;

/// <summary>Damage a Caffe .prototxt: extreme numbers, layers moved, copied, lost or retyped, blobs from nowhere, deep nesting.</summary>
public static partial class PrototxtMutations
{
    public static IReadOnlyList<FileMutation> All { get; } =
        [ExtremeNumber, ExtremeNumber, ExtremeNumber, RetargetName, RetargetName, SwapLayers, DuplicateLayer, RemoveLayer, RetypeLayer, DeepNesting, BreakSyntax, ByteMutations.BinaryGarbage];

    private static readonly string[] LayerTypes =
    [
        "Convolution", "Deconvolution", "BatchNorm", "Scale", "ReLU", "Pooling", "InnerProduct", "Concat", "Eltwise", "Softmax", "Flatten",
        "Reshape", "Split", "Slice", "Input", "Data", "Python", "LRN", "Dropout", "Permute", "PriorBox", "DetectionOutput", "", "NoSuchType",
    ];

    [GeneratedRegex(@"(?<=:\s*)-?[0-9][0-9.eE+\-]*")]
    private static partial Regex NumberValue();

    [GeneratedRegex("(?<=(bottom|top|name)\\s*:\\s*\")[^\"]*(?=\")")]
    private static partial Regex NameValue();

    [GeneratedRegex("(?<=type\\s*:\\s*\")[^\"]*(?=\")")]
    private static partial Regex TypeValue();

    public static Mutated ExtremeNumber(byte[] bytes, Rng rng) => ReplaceOne(bytes, rng, NumberValue(), DeepNesting, _ =>
    {
        var value = rng.Pick(TextValues.ExtremeNumbers);
        return value.Length == 0 ? "\"\"" : value;
    }, "number");

    /// <summary>A bottom, top or name set to nothing, to a blob defined later, or to one that does not exist.</summary>
    public static Mutated RetargetName(byte[] bytes, Rng rng) => ReplaceOne(bytes, rng, NameValue(), ExtremeNumber, matches => rng.Below(4) switch
    {
        0 => string.Empty,
        1 => "nowhere",
        _ => matches[rng.Below(matches.Count)].Value, // often a later blob: a forward reference, or a cycle
    }, "name");

    public static Mutated RetypeLayer(byte[] bytes, Rng rng) => ReplaceOne(bytes, rng, TypeValue(), ExtremeNumber, _ => rng.Pick(LayerTypes), "type");

    /// <summary>One match of <paramref name="pattern"/>, picked at random, replaced; text without a match gets <paramref name="otherwise"/>.</summary>
    private static Mutated ReplaceOne(byte[] bytes, Rng rng, Regex pattern, FileMutation otherwise, Func<MatchCollection, string> replacement, string what)
    {
        var text = Text(bytes);
        var matches = pattern.Matches(text);
        if (matches.Count == 0)
        {
            return otherwise(bytes, rng);
        }

        var match = matches[rng.Below(matches.Count)];
        var value = replacement(matches);
        return new Mutated(Bytes(text.Remove(match.Index, match.Length).Insert(match.Index, value)), $"{what} '{match.Value}' at offset {match.Index} -> '{value}'");
    }

    public static Mutated SwapLayers(byte[] bytes, Rng rng) => OnLayers(bytes, rng, layers =>
    {
        var (a, b) = (rng.Below(layers.Count), rng.Below(layers.Count));
        (layers[a], layers[b]) = (layers[b], layers[a]);
        return $"layers {a} and {b} swapped";
    });

    public static Mutated DuplicateLayer(byte[] bytes, Rng rng) => OnLayers(bytes, rng, layers =>
    {
        var index = rng.Below(layers.Count);
        var copies = rng.Chance(0.9) ? 1 : rng.Between(2, 200);
        for (var i = 0; i < copies; i++)
        {
            layers.Insert(index, layers[index]);
        }

        return $"layer {index} duplicated {copies} time(s)";
    });

    public static Mutated RemoveLayer(byte[] bytes, Rng rng) => OnLayers(bytes, rng, layers =>
    {
        var index = rng.Below(layers.Count);
        layers.RemoveAt(index);
        return $"layer {index} removed";
    });

    /// <summary>Messages nested thousands deep (a recursive-descent reader's stack), balanced or not.</summary>
    public static Mutated DeepNesting(byte[] bytes, Rng rng)
    {
        var text = Text(bytes);
        var depth = rng.Pick([100, 1_000, 10_000, 100_000]);
        var field = rng.Pick(["layer", "convolution_param", "x", "input_param"]);
        var opening = new StringBuilder().Insert(0, $"{field} {{ ", depth).ToString();
        var closing = rng.Chance(0.7) ? new string('}', depth) : string.Empty;
        var at = rng.Chance(0.5) ? text.Length : LayerStarts(text).DefaultIfEmpty(0).ElementAt(0);
        return new Mutated(Bytes(text.Insert(at, opening + closing)), $"'{field} {{' nested {depth} deep at offset {at}{(closing.Length == 0 ? ", never closed" : string.Empty)}");
    }

    public static Mutated BreakSyntax(byte[] bytes, Rng rng)
    {
        var text = Text(bytes);
        var at = rng.Below(text.Length + 1);
        var junk = rng.Pick(["{", "}", "\"", ":", "::", "\"\\", "#", "\\x", "layer", "layer {", "1e", "-", "\0", "\u00ff\u00fe", "'", "[", "<"]);
        return new Mutated(Bytes(text.Insert(at, junk)), $"'{junk}' inserted at offset {at}");
    }

    /// <summary>Top-level <c>layer { … }</c> blocks, edited as a list and written back between the same head and tail.</summary>
    private static Mutated OnLayers(byte[] bytes, Rng rng, Func<List<string>, string> edit)
    {
        var text = Text(bytes);
        var starts = LayerStarts(text).ToList();
        if (starts.Count == 0)
        {
            return ExtremeNumber(bytes, rng);
        }

        var layers = new List<string>();
        var end = starts[0];
        foreach (var start in starts)
        {
            var close = MatchingBrace(text, text.IndexOf('{', start));
            if (close < 0)
            {
                break;
            }

            layers.Add(text[start..(close + 1)]);
            end = close + 1;
        }

        if (layers.Count == 0)
        {
            return ExtremeNumber(bytes, rng);
        }

        var what = edit(layers);
        return new Mutated(Bytes(text[..starts[0]] + string.Join('\n', layers) + text[end..]), what);
    }

    private static IEnumerable<int> LayerStarts(string text)
    {
        var depth = 0;
        for (var i = 0; i < text.Length; i++)
        {
            switch (text[i])
            {
                case '{':
                    depth++;
                    break;
                case '}':
                    depth--;
                    break;
                case '#':
                    while (i < text.Length && text[i] != '\n')
                    {
                        i++;
                    }

                    break;
                case 'l' when depth == 0 && string.CompareOrdinal(text, i, "layer", 0, 5) == 0 && (i == 0 || char.IsWhiteSpace(text[i - 1])):
                    yield return i;
                    break;
                default:
                    break;
            }
        }
    }

    private static int MatchingBrace(string text, int open)
    {
        if (open < 0)
        {
            return -1;
        }

        var depth = 0;
        for (var i = open; i < text.Length; i++)
        {
            depth += text[i] switch { '{' => 1, '}' => -1, _ => 0 };
            if (depth == 0)
            {
                return i;
            }
        }

        return -1;
    }

    private static string Text(byte[] bytes) => Encoding.UTF8.GetString(bytes);

    private static byte[] Bytes(string text) => Encoding.UTF8.GetBytes(text);
}
