using System.Text.RegularExpressions;
using NeuralBuild.Engine.Diagnostics;

namespace NeuralBuild.Engine.Tests.Diagnostics;

[TestClass]
public sealed partial class CaffeDiagnosticsDocumentationTests
{
    [GeneratedRegex(@"^## (NM\d{4})\s*$", RegexOptions.Multiline)]
    private static partial Regex Heading();

    [TestMethod]
    public void Every_Caffe_code_is_documented_once_with_an_example_and_nothing_else_is()
    {
        var text = File.ReadAllText(Path.Combine(TestPaths.RepoRoot, "docs", "diagnostics-caffe.md"));
        var documented = Heading().Matches(text).Select(m => m.Groups[1].Value).ToList();
        var caffe = DiagnosticCodes.All.Select(d => d.Code).Where(c => string.CompareOrdinal(c, "NM0100") >= 0 && string.CompareOrdinal(c, "NM0149") <= 0).Order(StringComparer.Ordinal).ToList();

        Assert.HasCount(caffe.Count, caffe.Distinct(StringComparer.Ordinal));
        CollectionAssert.AreEqual(caffe, documented.Order(StringComparer.Ordinal).ToList());
        foreach (var code in caffe)
        {
            StringAssert.Contains(text, $"error {code}: ", $"{code} needs an example message");
        }
    }
}
