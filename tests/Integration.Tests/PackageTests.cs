using System.Diagnostics;
using System.IO.Compression;
using System.Xml.Linq;

namespace NeuralBuild.Integration.Tests;

/// <summary>The metadata of the package the feed holds, as nuget.org and an IDE's package manager read it.</summary>
[TestClass]
public sealed class PackageTests
{
    [TestMethod]
    public void The_package_carries_its_readme_and_the_commit_it_was_packed_from_and_no_invented_url()
    {
        var feed = PackedFeed.Instance;
        using var package = ZipFile.OpenRead(Path.Combine(feed.Feed, $"NeuralBuild.{feed.Version}.nupkg"));
        var nuspec = XDocument.Load(package.Entries.Single(e => e.FullName == "NeuralBuild.nuspec").Open());
        var metadata = nuspec.Root!.Elements().Single(e => e.Name.LocalName == "metadata");
        string? Element(string name) => metadata.Elements().SingleOrDefault(e => e.Name.LocalName == name)?.Value;

        // The readme named by the nuspec is in the package and is the package's own (src/Tasks/PACKAGE.md).
        var readmeName = Element("readme");
        Assert.AreEqual("README.md", readmeName);
        using (var readme = new StreamReader(package.GetEntry("README.md")!.Open()))
        {
            var text = readme.ReadToEnd();
            StringAssert.Contains(text, "<PackageReference Include=\"NeuralBuild\"");
            StringAssert.Contains(text, "docs/item-metadata.md");
        }

        var repository = metadata.Elements().Single(e => e.Name.LocalName == "repository");
        Assert.AreEqual("git", repository.Attribute("type")?.Value);
        if (GitHead() is { } head)
        {
            Assert.AreEqual(head, repository.Attribute("commit")?.Value);
        }

        // A URL only when the release gave one (NeuralBuildProjectUrl, here inherited from this process's environment).
        var given = Environment.GetEnvironmentVariable("NeuralBuildProjectUrl");
        Assert.AreEqual(string.IsNullOrEmpty(given) ? null : given, Element("projectUrl"));
        Assert.AreEqual(string.IsNullOrEmpty(given) ? null : given, repository.Attribute("url")?.Value);
    }

    /// <summary>The commit checked out in the repository, from git itself; null where git or the repository's history is not available.</summary>
    private static string? GitHead()
    {
        try
        {
            var start = new ProcessStartInfo("git", ["-C", PackedFeed.RepoRoot, "rev-parse", "HEAD"]) { RedirectStandardOutput = true, RedirectStandardError = true };
            using var git = Process.Start(start)!;
            var head = git.StandardOutput.ReadToEnd().Trim();
            git.WaitForExit();
            return git.ExitCode == 0 && head.Length == 40 ? head : null;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return null;
        }
    }
}
