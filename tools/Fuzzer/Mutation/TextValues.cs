namespace NeuralBuild.Fuzzer.Mutation;

/// <summary>Numbers at and past every limit a reader might assume.</summary>
public static class TextValues
{
    public static IReadOnlyList<string> ExtremeNumbers { get; } =
    [
        "0", "-1", "1", "65536", "2147483647", "2147483648", "-2147483648", "4294967296", "9223372036854775807",
        "-9223372036854775808", "18446744073709551616", "1e308", "-1e308", "1e-320", "nan", "inf", "-inf", "", "0.5", "-0",
    ];
}
