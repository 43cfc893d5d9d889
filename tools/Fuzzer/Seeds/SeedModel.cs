namespace NeuralBuild.Fuzzer.Seeds;

/// <summary>A valid model that mutations start from: definition first, then its weights (if separate).</summary>
public sealed record SeedModel(string Format, string Name, IReadOnlyList<FuzzFile> Files);
