using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace NeuralBuild.Fuzzer.Running;

/// <summary>
/// Keeps one reproducer per bug: the input's files and <c>reproducer.txt</c> (verdict, exception,
/// stack, how to regenerate it), under <c>ROOT/FORMAT/VERDICT-ID/</c>, ID a hash of the dedup key.
/// Keys already on disk count, so restarted workers sharing a folder do not save a bug twice.
/// Optionally copies each new one to a second folder (the findings shared with whoever fixes them).
/// </summary>
public sealed class ReproducerStore
{
    public const string DescriptionFile = "reproducer.txt";
    private const string KeyPrefix = "key: ";

    private readonly string _root;
    private readonly string? _copyTo;
    private readonly HashSet<string> _keys = new(StringComparer.Ordinal);

    public ReproducerStore(string root, string? copyTo = null)
    {
        _root = root;
        _copyTo = copyTo;
        if (Directory.Exists(root))
        {
            foreach (var description in Directory.EnumerateFiles(root, DescriptionFile, SearchOption.AllDirectories))
            {
                var key = File.ReadLines(description).FirstOrDefault(l => l.StartsWith(KeyPrefix, StringComparison.Ordinal));
                if (key is not null)
                {
                    _keys.Add(key[KeyPrefix.Length..]);
                }
            }
        }
    }

    public int Count => _keys.Count;

    /// <summary>Saves the reproducer unless its bug is already kept; returns its folder, or null when it was a duplicate.</summary>
    public string? Save(FuzzInput input, Outcome outcome, string regenerate)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(outcome);
        var key = outcome.DedupKey(input.Format);
        lock (_keys)
        {
            if (!_keys.Add(key))
            {
                return null;
            }
        }

        var id = $"{outcome.Verdict.Label()}-{Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(key)))[..8]}";
        var folder = Write(Path.Combine(_root, input.Format, id), input, outcome, key, regenerate);
        if (_copyTo is not null)
        {
            Write(Path.Combine(_copyTo, input.Format, id), input, outcome, key, regenerate);
        }

        return folder;
    }

    public static string Describe(FuzzInput input, Outcome outcome, string key, string regenerate)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(outcome);
        var text = new StringBuilder();
        text.AppendLine(CultureInfo.InvariantCulture, $"{KeyPrefix}{key}");
        text.AppendLine(CultureInfo.InvariantCulture, $"verdict: {outcome.Verdict.Label()}");
        text.AppendLine(CultureInfo.InvariantCulture, $"format: {input.Format}");
        text.AppendLine(CultureInfo.InvariantCulture, $"files: {string.Join(", ", input.Files.Select(f => $"{f.Name} ({f.Bytes.Length:N0} bytes)"))} — run `fuse` on {input.Definition.Name}");
        text.AppendLine(CultureInfo.InvariantCulture, $"seed model: {input.Seed}");
        text.AppendLine(CultureInfo.InvariantCulture, $"mutation: {input.Mutation}");
        text.AppendLine(CultureInfo.InvariantCulture, $"regenerate: {regenerate}");
        text.AppendLine(CultureInfo.InvariantCulture, $"elapsed: {outcome.Elapsed.TotalMilliseconds:N0} ms, allocated: {outcome.AllocatedBytes:N0} bytes");
        text.AppendLine(CultureInfo.InvariantCulture, $"detail: {outcome.Detail}");
        if (outcome.ExceptionType is not null)
        {
            text.AppendLine(CultureInfo.InvariantCulture, $"exception: {outcome.ExceptionType}");
            text.AppendLine(CultureInfo.InvariantCulture, $"top engine frame: {outcome.TopFrame}");
        }

        if (outcome.Stack is not null)
        {
            text.AppendLine("stack:");
            text.AppendLine(outcome.Stack);
        }

        return text.ToString();
    }

    private static string Write(string folder, FuzzInput input, Outcome outcome, string key, string regenerate)
    {
        Directory.CreateDirectory(folder);
        foreach (var file in input.Files)
        {
            File.WriteAllBytes(Path.Combine(folder, file.Name), file.Bytes);
        }

        File.WriteAllText(Path.Combine(folder, DescriptionFile), Describe(input, outcome, key, regenerate));
        return folder;
    }

    /// <summary>A saved reproducer as an input again (the definition is the file named on the <c>files:</c> line, else the first non-description file).</summary>
    public static FuzzInput Load(string folder)
    {
        var description = Path.Combine(folder, DescriptionFile);
        var lines = File.Exists(description) ? File.ReadAllLines(description) : [];
        string? Field(string name) => lines.FirstOrDefault(l => l.StartsWith(name + ": ", StringComparison.Ordinal))?[(name.Length + 2)..];
        var files = Directory.GetFiles(folder).Where(p => Path.GetFileName(p) != DescriptionFile).Order(StringComparer.Ordinal)
            .Select(p => new FuzzFile(Path.GetFileName(p), File.ReadAllBytes(p))).ToList();
        var definition = files.FirstOrDefault(f => Path.GetExtension(f.Name) is ".cfg" or ".prototxt" or ".onnx")
            ?? throw new InvalidOperationException($"{folder} holds no .cfg, .prototxt or .onnx file.");
        files.Remove(definition);
        files.Insert(0, definition);
        var format = Field("format") ?? Path.GetFileName(Path.GetDirectoryName(Path.GetFullPath(folder))) ?? "unknown";
        return new FuzzInput(format, Field("seed model") ?? "?", Field("mutation") ?? "?", files);
    }
}
