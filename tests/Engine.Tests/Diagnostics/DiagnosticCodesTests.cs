using System.Text.RegularExpressions;
using NeuralBuild.Engine.Diagnostics;

namespace NeuralBuild.Engine.Tests.Diagnostics;

/// <summary>
/// Every code in <see cref="DiagnosticCodes.All"/> is well formed, unique, in its severity's range
/// and documented exactly once in docs/diagnostics.md (title, severity, an example in the build's
/// form, the fix), and the page documents no code that does not exist. The rules are one function,
/// run on the real code list and page, and on broken inputs to show each rule can fail.
/// </summary>
[TestClass]
public sealed partial class DiagnosticCodesTests
{
    private static readonly string s_documentationPath = Path.Combine(TestPaths.RepoRoot, "docs", "diagnostics.md");

    [TestMethod]
    public void Every_code_is_well_formed_unique_in_range_and_documented_once()
    {
        var problems = Problems(DiagnosticCodes.All, File.ReadAllText(s_documentationPath));
        Assert.IsEmpty(problems, string.Join("\n", problems));
    }

    [TestMethod]
    public void The_code_list_is_found_by_reflection()
    {
        // All is built by reflection; an empty list would make the test above pass vacuously.
        Assert.IsGreaterThanOrEqualTo(19, DiagnosticCodes.All.Count);
        CollectionAssert.Contains(DiagnosticCodes.All.ToList(), DiagnosticCodes.WeightsBadHeader);
        CollectionAssert.Contains(DiagnosticCodes.All.ToList(), DiagnosticCodes.FileNotFound);
    }

    [TestMethod]
    public void An_undocumented_code_is_reported()
    {
        var problems = Problems([Error("NM0001"), Error("NM0002")], Section("NM0001", "error"));
        Assert.HasCount(1, problems);
        Assert.Contains("NM0002 is not documented", problems[0]);
    }

    [TestMethod]
    public void A_code_documented_twice_is_reported()
    {
        var problems = Problems([Error("NM0001")], Section("NM0001", "error") + Section("NM0001", "error"));
        Assert.HasCount(1, problems);
        Assert.Contains("NM0001 is documented 2 times", problems[0]);
    }

    [TestMethod]
    public void A_code_declared_twice_is_reported()
    {
        var problems = Problems([Error("NM0001"), Error("NM0001")], Section("NM0001", "error"));
        Assert.HasCount(1, problems);
        Assert.Contains("NM0001 is declared 2 times", problems[0]);
    }

    [TestMethod]
    [DataRow("NM001")]
    [DataRow("NM00011")]
    [DataRow("nm0001")]
    [DataRow("XX0001")]
    public void A_malformed_code_is_reported(string code)
    {
        var problems = Problems([Error(code)], Section(code, "error"));
        Assert.IsTrue(problems.Any(p => p.Contains($"{code} is not of the form NM", StringComparison.Ordinal)), string.Join("\n", problems));
    }

    [TestMethod]
    [DataRow("NM2001", DiagnosticSeverity.Error)]
    [DataRow("NM0001", DiagnosticSeverity.Warning)]
    [DataRow("NM1001", DiagnosticSeverity.Warning)]
    [DataRow("NM3001", DiagnosticSeverity.Error)]
    [DataRow("NM3001", DiagnosticSeverity.Warning)]
    [DataRow("NM9000", DiagnosticSeverity.Warning)]
    [DataRow("NM8000", DiagnosticSeverity.Error)]
    public void A_code_outside_its_severity_range_is_reported(string code, DiagnosticSeverity severity)
    {
        var descriptor = new DiagnosticDescriptor(code, severity, "Title " + code);
        var problems = Problems([descriptor], Section(code, severity == DiagnosticSeverity.Error ? "error" : "warning"));
        Assert.HasCount(1, problems);
        Assert.Contains($"{code} is a {severity}", problems[0]);
    }

    [TestMethod]
    [DataRow("NM0070")]
    [DataRow("NM9000")]
    [DataRow("NM9009")]
    public void Input_and_internal_error_codes_are_in_range_as_errors(string code)
    {
        var problems = Problems([Error(code)], Section(code, "error"));
        Assert.IsEmpty(problems, string.Join("\n", problems));
    }

    [TestMethod]
    public void A_documented_code_that_does_not_exist_is_reported()
    {
        var problems = Problems([Error("NM0001")], Section("NM0001", "error") + Section("NM0099", "error"));
        Assert.HasCount(1, problems);
        Assert.Contains("NM0099 is documented but does not exist", problems[0]);
    }

    [TestMethod]
    public void A_section_with_a_wrong_title_severity_example_or_fix_is_reported()
    {
        var good = Section("NM0001", "error");
        string[] broken =
        [
            good.Replace("Title NM0001", "Another title", StringComparison.Ordinal),
            good.Replace("**Severity:** error", "**Severity:** warning", StringComparison.Ordinal),
            good.Replace("error NM0001: something", "error NM0002: something", StringComparison.Ordinal),
            good.Replace("model.cfg(3,7): error", "model.cfg(3,7) error", StringComparison.Ordinal),
            good.Replace("- **Fix:** Do this.", string.Empty, StringComparison.Ordinal),
        ];
        foreach (var page in broken)
        {
            var problems = Problems([Error("NM0001")], page);
            Assert.HasCount(1, problems, page);
        }
    }

    /// <summary>The rules. Returns one line per problem; none means the list and the page agree.</summary>
    private static List<string> Problems(IReadOnlyList<DiagnosticDescriptor> codes, string markdown)
    {
        var problems = new List<string>();
        foreach (var group in codes.GroupBy(c => c.Code, StringComparer.Ordinal).Where(g => g.Count() > 1))
        {
            problems.Add($"{group.Key} is declared {group.Count()} times in DiagnosticCodes.");
        }

        foreach (var code in codes.DistinctBy(c => c.Code))
        {
            if (!CodeForm().IsMatch(code.Code))
            {
                problems.Add($"{code.Code} is not of the form NM followed by four digits.");
                continue;
            }

            var expected = code.Code[2] switch
            {
                '0' or '1' or '9' => DiagnosticSeverity.Error,
                '2' => DiagnosticSeverity.Warning,
                _ => (DiagnosticSeverity?)null,
            };
            if (expected != code.Severity)
            {
                problems.Add($"{code.Code} is a {code.Severity} but NM0xxx/NM1xxx/NM9xxx are errors, NM2xxx warnings and nothing else is allowed.");
            }
        }

        var sections = SectionHeading().Matches(markdown)
            .Select(m => (Code: m.Groups[1].Value.Trim(), Body: Body(markdown, m)))
            .ToList();
        foreach (var group in sections.GroupBy(s => s.Code, StringComparer.Ordinal))
        {
            var declared = codes.FirstOrDefault(c => c.Code == group.Key);
            if (declared is null)
            {
                problems.Add($"{group.Key} is documented but does not exist in DiagnosticCodes.");
                continue;
            }

            if (group.Count() > 1)
            {
                problems.Add($"{group.Key} is documented {group.Count()} times.");
                continue;
            }

            problems.AddRange(SectionProblems(declared, group.Single().Body));
        }

        foreach (var code in codes.DistinctBy(c => c.Code).Where(c => sections.All(s => s.Code != c.Code)))
        {
            problems.Add($"{code.Code} is not documented in docs/diagnostics.md.");
        }

        return problems;
    }

    private static IEnumerable<string> SectionProblems(DiagnosticDescriptor code, string body)
    {
        var severity = code.Severity == DiagnosticSeverity.Error ? "error" : "warning";
        if (!body.Contains($"- **Title:** {code.Title}\n", StringComparison.Ordinal))
        {
            yield return $"{code.Code}: the section lacks '- **Title:** {code.Title}'.";
        }

        if (!body.Contains($"- **Severity:** {severity}\n", StringComparison.Ordinal))
        {
            yield return $"{code.Code}: the section lacks '- **Severity:** {severity}'.";
        }

        var examples = ExampleLine().Matches(body).Where(m => m.Groups["kind"].Value == severity && m.Groups["code"].Value == code.Code);
        if (!examples.Any())
        {
            yield return $"{code.Code}: the section has no example of the form 'file(line,col): {severity} {code.Code}: message'.";
        }

        if (!FixLine().IsMatch(body))
        {
            yield return $"{code.Code}: the section lacks '- **Fix:** …'.";
        }
    }

    private static string Body(string markdown, Match heading)
    {
        var start = heading.Index + heading.Length;
        var next = markdown.IndexOf("\n## ", start, StringComparison.Ordinal);
        return markdown[start..(next < 0 ? markdown.Length : next + 1)].Replace("\r", string.Empty, StringComparison.Ordinal);
    }

    private static DiagnosticDescriptor Error(string code) => new(code, DiagnosticSeverity.Error, "Title " + code);

    private static string Section(string code, string severity) =>
        $"## {code}\n\n- **Title:** Title {code}\n- **Severity:** {severity}\n- **Example:**\n\n  ```\n  model.cfg(3,7): {severity} {code}: something is wrong.\n  ```\n\n- **Fix:** Do this.\n\n";

    [GeneratedRegex(@"^NM\d{4}$")]
    private static partial Regex CodeForm();

    [GeneratedRegex(@"^## (NM.*)$", RegexOptions.Multiline | RegexOptions.IgnoreCase)]
    private static partial Regex SectionHeading();

    /// <summary><c>file(line,col): error NM0013: text</c>; the location is optional (command-line errors have none).</summary>
    // MSBuild's canonical forms: "file(line,col): error …", "file: error …" and, for project-level
    // messages, "app.csproj : error …".
    [GeneratedRegex(@"^\s*(?:[^\s()]+(?:\(\d+,\d+\))? ?: )?(?<kind>error|warning) (?<code>NM\d{4}): \S", RegexOptions.Multiline)]
    private static partial Regex ExampleLine();

    [GeneratedRegex(@"^- \*\*Fix:\*\* \S", RegexOptions.Multiline)]
    private static partial Regex FixLine();
}
