namespace NeuralBuild.Fuzzer;

/// <summary>One file of a model as bytes; <see cref="Name"/> is a bare file name.</summary>
public sealed record FuzzFile(string Name, byte[] Bytes);

/// <summary>
/// A model to feed the fuse path: the definition first, then whatever the format reads beside it.
/// <paramref name="Mutation"/> says in words what was done to the seed, for the reproducer.
/// </summary>
public sealed record FuzzInput(string Format, string Seed, string Mutation, IReadOnlyList<FuzzFile> Files)
{
    public FuzzFile Definition => Files[0];

    public long TotalBytes => Files.Sum(f => (long)f.Bytes.Length);
}
