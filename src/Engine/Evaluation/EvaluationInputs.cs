using NeuralBuild.Engine.Diagnostics;
using NeuralBuild.Engine.Execution;
using NeuralBuild.Engine.Ir;

namespace NeuralBuild.Engine.Evaluation;

/// <summary>
/// What a lossy model is measured on: by default one seeded synthetic input (uniform in [-1, 1)), or
/// the user's files. A path is one file or a folder; a folder's <c>.npy</c> tensors and images may be
/// mixed, each file one input, taken in ordinal order of their names (not recursive; other files are
/// skipped and counted). A <c>.npy</c> holds the model's input as it is (its exact shape, or that shape
/// without the batch dimension of 1); an image is made into one by <see cref="ImageInput"/>. Files are
/// read one at a time, when measured.
/// </summary>
public sealed class EvaluationInputs
{
    /// <summary>Extensions of the images a folder's files are read as (what StbImageSharp decodes).</summary>
    public static readonly IReadOnlySet<string> ImageExtensions = new HashSet<string>(StringComparer.OrdinalIgnoreCase) { ".png", ".jpg", ".jpeg", ".bmp", ".tga", ".gif", ".psd", ".hdr" };

    private readonly ulong _seed;

    private EvaluationInputs(IReadOnlyList<string> files, int skipped, InputPreprocessing preprocessing, ulong seed)
    {
        Files = files;
        Skipped = skipped;
        Preprocessing = preprocessing;
        _seed = seed;
    }

    /// <summary>One seeded synthetic input: the measurement every lossy export gets unless told otherwise.</summary>
    public static EvaluationInputs Synthetic(ulong seed) => new([], 0, InputPreprocessing.Default, seed);

    /// <summary>The files at <paramref name="path"/> (a file, or a folder's .npy and image files); none is NM0379.</summary>
    public static EvaluationInputs FromPath(string path, InputPreprocessing preprocessing)
    {
        var where = new SourceLocation(path);
        if (File.Exists(path))
        {
            return IsInput(path) ? new([Path.GetFullPath(path)], 0, preprocessing, 0)
                : throw DiagnosticCodes.InvalidEvaluationSetting.Exception(where, $"'{Path.GetFileName(path)}' is neither a .npy tensor nor an image ({string.Join(", ", ImageExtensions.Order(StringComparer.Ordinal))}).");
        }

        if (!Directory.Exists(path))
        {
            throw DiagnosticCodes.InvalidEvaluationSetting.Exception(where, $"evaluation inputs '{path}' do not exist: give a folder of .npy tensors and images, or one such file.");
        }

        var all = Formats.FileFailures.Reading(path, () => Directory.GetFiles(path));
        var files = all.Where(IsInput).Order(StringComparer.Ordinal).ToList();
        return files.Count > 0 ? new(files, all.Length - files.Count, preprocessing, 0)
            : throw DiagnosticCodes.InvalidEvaluationSetting.Exception(where, $"the folder holds no .npy tensor and no image ({string.Join(", ", ImageExtensions.Order(StringComparer.Ordinal))}) to measure on.");
    }

    /// <summary>These files, in this order (a list already made by <see cref="FromPath"/>, passed to another process).</summary>
    public static EvaluationInputs FromFiles(IReadOnlyList<string> files, InputPreprocessing preprocessing) =>
        files.Count > 0 ? new(files, 0, preprocessing, 0) : throw new ArgumentException("no evaluation input files.", nameof(files));

    /// <summary>The files, in the order they are measured; empty for the synthetic input.</summary>
    public IReadOnlyList<string> Files { get; }

    /// <summary>Files of the folder that are neither .npy nor an image.</summary>
    public int Skipped { get; }

    public InputPreprocessing Preprocessing { get; }

    public bool IsSynthetic => Files.Count == 0;

    /// <summary>How many inputs are measured.</summary>
    public int Count => IsSynthetic ? 1 : Files.Count;

    /// <summary>Input <paramref name="index"/>, for a model whose input is <paramref name="modelInput"/>; a file that does not fit it is NM0378.</summary>
    public Tensor Load(int index, Shape modelInput)
    {
        if (IsSynthetic)
        {
            return Pipeline.Verifier.RandomTensor(modelInput, _seed);
        }

        var path = Files[index];
        if (!path.EndsWith(".npy", StringComparison.OrdinalIgnoreCase))
        {
            return ImageInput.Read(path, modelInput, Preprocessing);
        }

        var tensor = NpyFile.Read(path);
        if (tensor.Shape.Equals(modelInput))
        {
            return tensor;
        }

        return modelInput.Rank == tensor.Shape.Rank + 1 && modelInput[0] == 1 && tensor.Shape.Dims.SequenceEqual(modelInput.Dims.Skip(1))
            ? new Tensor(modelInput, tensor.Data)
            : throw DiagnosticCodes.EvaluationInputMismatch.Exception(new SourceLocation(path),
                $"the tensor's shape {tensor.Shape} is not the model's input {modelInput}.");
    }

    /// <summary>"seeded synthetic input" or "12 files in data/ (3 other files skipped)".</summary>
    /// <summary>What <see cref="Describe"/> says of the seeded synthetic input.</summary>
    public const string SyntheticDescription = "1 seeded synthetic input";

    public string Describe() => IsSynthetic ? SyntheticDescription
        : $"{Files.Count} input file(s) in {Path.GetDirectoryName(Files[0])}{(Skipped > 0 ? $" ({Skipped} other file(s) skipped)" : string.Empty)}";

    private static bool IsInput(string path)
    {
        var extension = Path.GetExtension(path);
        return extension.Equals(".npy", StringComparison.OrdinalIgnoreCase) || ImageExtensions.Contains(extension);
    }
}
