using System.Diagnostics;
using System.Globalization;
using NeuralBuild.Engine.Formats.Darknet;
using NeuralBuild.Engine.Ir;
using NeuralBuild.Engine.Pipeline;
using NeuralBuild.Engine.Tests.Execution;

namespace NeuralBuild.Engine.Tests.Passes;

/// <summary>
/// Our fold against darknet's own: on the same model and input, libdarknet runs (a) the original,
/// (b) our fused model (`dotnet neural fuse --dialect pjreddie`) and (c) the weights written by
/// `darknet denormalize`. (b) must match (a) within tolerance, and its error must never exceed
/// (c)'s: pjreddie's forward divides by sqrt(var) + 1e-6 while its denormalize folds with
/// sqrt(var + 1e-5), so darknet's own fused model departs from darknet's original wherever a
/// variance is small — which the generated weights have (2 % of channels, 1e-6 to 1e-3).
/// </summary>
[TestClass]
public sealed class DarknetDenormalizeComparisonTests
{
    private const double Atol = 1e-4;
    private const double Rtol = 1e-3;

    public TestContext TestContext { get; set; } = null!;

    [TestMethod]
    [DataRow("yolov3-tiny")]
    [DataRow("yolov2-tiny")]
    [DataRow("yolov3")]
    [DataRow("resnet18")]
    [DataRow("resnet50")]
    public void Our_fused_model_matches_darknet_and_is_never_further_off_than_darknet_denormalize(string name)
    {
        var work = Path.Combine(Path.GetTempPath(), "nb-denormalize", name + "-" + Guid.NewGuid().ToString("N"));
        try
        {
            var cfg = Path.Combine(TestPaths.DebianDarknetCfg, name + ".cfg");
            var model = DarknetTestModel.Create(cfg, work, seed: 7);

            var ours = ModelOptimizer.Optimize(new OptimizeRequest
            {
                DefinitionPath = model.Cfg,
                WeightsPath = model.Weights,
                FormatOptions = new Dictionary<string, string> { ["dialect"] = "pjreddie" },
                Verify = VerifyMode.None,
                OutputDirectory = Path.Combine(work, "ours"),
            });
            var denormalized = Path.Combine(work, "denormalized.weights");
            RunDarknet("denormalize", model.Cfg, model.Weights, denormalized);

            // For a classifier the logits before the (nearly flat) softmax say more than the softmax.
            var layers = ((DarknetModel)model.Open(DarknetDialect.Pjreddie).SourceDocument!).Layers;
            var last = layers.Last(l => l.Section.Type != "cost");
            var extra = last.Section.Type is "softmax" or "soft" ? (last.Index - 1).ToString(CultureInfo.InvariantCulture) : null;

            var original = DarknetHarness.Run(model.Cfg, model.Weights, model.Input, work, extra);
            var fusedByUs = DarknetHarness.Run(ours.OptimizedDefinitionPath, ours.OptimizedWeightsPath, model.Input, work, extra);
            // darknet's denormalize writes only weights; its cfg is the same as ours (batch_normalize=0 where folded).
            var fusedByDarknet = DarknetHarness.Run(ours.OptimizedDefinitionPath, denormalized, model.Input, work, extra);

            Assert.IsNotEmpty(original);
            double oursWorst = 0, darknetWorst = 0;
            foreach (var (layer, expected) in original)
            {
                var shape = layers[layer].OutputShape;
                var us = VerificationReport.Compare("ours", $"layer {layer}", shape, fusedByUs[layer], expected, Atol, Rtol);
                var them = VerificationReport.Compare("darknet denormalize", $"layer {layer}", shape, fusedByDarknet[layer], expected, Atol, Rtol);
                TestContext.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"{name} layer {layer} [{layers[layer].Section.Type}] {shape}: ours max abs {us.MaxAbsoluteError:G3} ({(us.Passed ? "within" : "OVER")} tolerance); darknet denormalize max abs {them.MaxAbsoluteError:G3} ({(them.Passed ? "within" : "over")} tolerance)"));
                Assert.IsTrue(us.Passed, $"{name} layer {layer}: our fused model is off by {us.MaxAbsoluteError:G3} (atol {Atol}, rtol {Rtol}).");
                oursWorst = Math.Max(oursWorst, us.MaxAbsoluteError);
                darknetWorst = Math.Max(darknetWorst, them.MaxAbsoluteError);
            }

            Assert.IsLessThanOrEqualTo(darknetWorst, oursWorst, $"{name}: our fold (max abs {oursWorst:G3}) must be no further from darknet's original than darknet's denormalize ({darknetWorst:G3}).");
        }
        finally
        {
            if (Directory.Exists(work))
            {
                Directory.Delete(work, recursive: true);
            }
        }
    }

    private static void RunDarknet(params string[] args)
    {
        var start = new ProcessStartInfo("darknet") { RedirectStandardError = true, RedirectStandardOutput = true, WorkingDirectory = Path.GetTempPath() };
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        Process process;
        try
        {
            process = Process.Start(start)!;
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            Assert.Fail($"darknet is not installed ({e.Message}); install Debian package darknet (scripts/test.sh does).");
            throw;
        }

        using (process)
        {
            var stderr = process.StandardError.ReadToEndAsync();
            _ = process.StandardOutput.ReadToEnd();
            process.WaitForExit();
            Assert.AreEqual(0, process.ExitCode, $"darknet {string.Join(' ', args)} failed: {stderr.Result}");
        }
    }
}
