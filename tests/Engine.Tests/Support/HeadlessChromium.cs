using System.Diagnostics;

namespace NeuralBuild.Engine.Tests.Support;

/// <summary>What a headless Chromium made of a page: the DOM after its scripts ran, and every console message.</summary>
internal sealed record RenderedPage(string Dom, IReadOnlyList<string> ConsoleMessages, string Log);

/// <summary>
/// Debian's <c>chromium</c>, headless, for the tests that open a report as a browser does. Missing,
/// it fails the test with how to install it (scripts/test.sh installs it): never a silent skip, or
/// CI would pass without having opened a single report.
/// </summary>
internal static class HeadlessChromium
{
    private static readonly TimeSpan s_timeout = TimeSpan.FromSeconds(60);

    /// <summary><c>NEURALBUILD_CHROMIUM</c>, else <c>chromium</c> or <c>chromium-browser</c> on PATH.</summary>
    public static string Executable()
    {
        if (Environment.GetEnvironmentVariable("NEURALBUILD_CHROMIUM") is { Length: > 0 } configured)
        {
            return configured;
        }

        var found = (Environment.GetEnvironmentVariable("PATH") ?? string.Empty)
            .Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .SelectMany(dir => new[] { "chromium", "chromium-browser" }.Select(name => Path.Combine(dir, name)))
            .FirstOrDefault(File.Exists);
        if (found is null)
        {
            Assert.Fail("Chromium was not found: these tests open the HTML report in headless Chromium. Install Debian's package (sudo apt-get install chromium; scripts/test.sh does it) or set NEURALBUILD_CHROMIUM to a Chromium executable.");
        }

        return found!;
    }

    /// <summary>Opens <paramref name="url"/> and returns the DOM once its scripts have run, with the console's messages.</summary>
    public static RenderedPage Open(string url)
    {
        var profile = Directory.CreateTempSubdirectory("neuralbuild-chromium-");
        try
        {
            var start = new ProcessStartInfo(Executable())
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
            };
            foreach (var argument in new[] { "--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run", "--enable-logging=stderr", "--v=0", $"--user-data-dir={profile.FullName}", "--window-size=1400,900", "--dump-dom", url })
            {
                start.ArgumentList.Add(argument);
            }

            using var process = Process.Start(start) ?? throw new InvalidOperationException("Could not start Chromium.");
            var stdout = process.StandardOutput.ReadToEndAsync();
            var stderr = process.StandardError.ReadToEndAsync();
            if (!process.WaitForExit(s_timeout))
            {
                process.Kill(entireProcessTree: true);
                process.WaitForExit();
                Assert.Fail($"Chromium did not finish opening {url} within {s_timeout}.");
            }

            process.WaitForExit();
            var log = stderr.Result;
            // Chromium logs console.log/console.error and uncaught exceptions alike as "...:CONSOLE(line)] "text", source: …".
            var console = log.Split('\n').Where(l => l.Contains(":CONSOLE", StringComparison.Ordinal)).Select(l => l.Trim()).ToList();
            Assert.AreEqual(0, process.ExitCode, $"Chromium exited with {process.ExitCode}:\n{log}");
            return new RenderedPage(stdout.Result, console, log);
        }
        finally
        {
            try
            {
                profile.Delete(recursive: true);
            }
            catch (IOException)
            {
                // A profile folder Chromium still holds is left for the temp cleaner.
            }
        }
    }

    public static string FileUrl(string path, string fragment = "") => new Uri(path).AbsoluteUri + fragment;
}
