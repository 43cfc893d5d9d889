using System.Globalization;
using NeuralBuild.Engine.Budgets;
using NeuralBuild.Engine.Diagnostics;
using NeuralBuild.Engine.Evaluation;
using NeuralBuild.Engine.Formats;
using NeuralBuild.Engine.Ir;
using NeuralBuild.Engine.Pipeline;
using NeuralBuild.OnnxRuntimeHost;

namespace NeuralBuild.RuntimeCheck;

/// <summary>
/// <c>NeuralBuild.RuntimeCheck --definition DEF --weights W [--option k=v …] [--input-shape S] --format F
/// --export FILE --input NAME --output VALUE=NAME … [--native FILE …] [--atol A] [--rtol R] [--verify-input S] [--measure true]</c>:
/// runs the exported file in its format's runtime and the original with the reference executor on the
/// seeded input (<see cref="Verifier.VerifyRuntime"/>; with <c>--measure true</c>, a quantized export, its error measured: <see cref="Verifier.MeasureRuntime"/>). The build's task runs it as its own process, so
/// the runtime's native library never loads into MSBuild; the library comes from the project's own
/// package of the runtime (<c>--native</c>: the native files of the project's packages).
/// Prints the runtime and its largest error, then the verification summary (or one line: a coded diagnostic). Exit 0 passed, 2 differs,
/// 3 the runtime is not available (a warning for the build), 1 anything else.
/// </summary>
public static class Program
{
    public const int Passed = 0;
    public const int Failed = 1;
    public const int Differs = 2;
    public const int NoRuntime = 3;

    public static int Main(string[] args)
    {
        try
        {
            var options = Arguments.Parse(args);
            var format = ModelFormats.ExportTarget(options.Single("--format"), new SourceLocation(options.Single("--definition")));
            if (!NativeRuntime.Use(format.Format, options.All("--native")))
            {
                Console.Out.WriteLine($"no native library for the {format.Format.DisplayName} runtime among the project's packages");
                return NoRuntime;
            }

            var definition = options.Single("--definition");
            var source = ModelFormats.ForPath(definition);
            var formatOptions = FormatOptions.Parse(options.All("--option"), new SourceLocation(definition));
            var readOptions = source.WithFormatOptions(
                new ModelReadOptions { WeightsPath = options.Single("--weights"), InputShape = Shape(options.Optional("--input-shape")) },
                formatOptions,
                new SourceLocation(definition));
            var original = ModelFormats.Read(definition, readOptions);
            using var runtime = ExportRuntimes.Open(format.Format, options.Single("--export"));
            if (runtime is null)
            {
                Console.Out.WriteLine($"no runtime for {format.Format.DisplayName} files");
                return NoRuntime;
            }

            var outputs = options.All("--output").Select(pair => pair.Split('=', 2)).Select(p => (p[0], p[1])).ToList();
            if (options.Optional("--measure") == "true")
            {
                // A lossy export cannot equal the original: its error is measured (the build budgets it).
                var files = options.All("--evaluation-input").ToList();
                var inputs = files.Count == 0 ? null : EvaluationInputs.FromFiles(files, InputPreprocessing.Parse(
                    options.Optional("--input-mean"), options.Optional("--input-scale"), null, options.Optional("--channel-order"), options.Optional("--resize"), new SourceLocation(definition)));
                var accuracy = Verifier.MeasureRuntime(original, runtime, options.Single("--input"), outputs, [], maxOutputError: null, Shape(options.Optional("--verify-input")), inputs);
                Console.Out.WriteLine($"{runtime.Name}: max relative error {OutputErrorBudget.Percent(accuracy.Outputs.Max(o => o.MaxRelativeError))}");
                Console.Out.WriteLine(accuracy.Summary().ReplaceLineEndings(" "));
                return Passed;
            }

            var report = Verifier.VerifyRuntime(original, runtime, options.Single("--input"), outputs,
                Number(options.Optional("--atol"), 1e-5), Number(options.Optional("--rtol"), 1e-4), Shape(options.Optional("--verify-input")));
            // First line: the brief the build's summary quotes; second: the whole verification.
            Console.Out.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{runtime.Name}: max abs error {report.MaxAbsoluteError:G3}"));
            Console.Out.WriteLine(report.Summary().ReplaceLineEndings(" "));
            return report.Passed ? Passed : Differs;
        }
        catch (NeuralException e)
        {
            Console.Out.WriteLine(e.Diagnostic.ToString());
            return Failed;
        }
        catch (Exception e) when (e is ArgumentException or IOException or DllNotFoundException or BadImageFormatException or TypeInitializationException or Microsoft.ML.OnnxRuntime.OnnxRuntimeException)
        {
            Console.Out.WriteLine($"{e.GetType().Name}: {e.Message}".ReplaceLineEndings(" "));
            return Failed;
        }
    }

    private static Shape? Shape(string? text) => text is null ? null : Engine.Ir.Shape.Parse(text);

    private static double Number(string? text, double fallback) => text is null ? fallback : double.Parse(text, CultureInfo.InvariantCulture);
}
