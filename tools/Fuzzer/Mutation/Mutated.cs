namespace NeuralBuild.Fuzzer.Mutation;

/// <summary>A file's new bytes and what was done, in words.</summary>
public readonly record struct Mutated(byte[] Bytes, string What);

/// <summary>One way to damage a file.</summary>
public delegate Mutated FileMutation(byte[] bytes, Rng rng);
