using NeuralBuild.Engine.Diagnostics;

namespace NeuralBuild.Engine.Tests.Support;

/// <summary>Checks a coded error: its code and where it points.</summary>
internal static class DiagnosticAssert
{
    public static NeuralException Throws(DiagnosticDescriptor expected, Action action)
    {
        var error = Assert.ThrowsExactly<NeuralException>(action);
        Assert.AreEqual(expected.Code, error.Code, error.ToString());
        return error;
    }

    public static NeuralException Throws<T>(DiagnosticDescriptor expected, Func<T> action) => Throws(expected, () => { _ = action(); });

    /// <summary>The error points at <paramref name="line"/>, <paramref name="column"/> of the test's cfg.</summary>
    public static void At(NeuralException error, int line, int column, string file = DarknetCfg.FileName)
    {
        Assert.AreEqual(file, error.Location.File, error.ToString());
        Assert.AreEqual(line, error.Location.Line, error.ToString());
        Assert.AreEqual(column, error.Location.Column, error.ToString());
    }
}
