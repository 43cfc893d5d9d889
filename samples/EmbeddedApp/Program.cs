using System.Diagnostics;
using System.Globalization;
using EmbeddedApp;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using SkiaSharp;

// dotnet EmbeddedApp.dll [IMAGE [OUTPUT.png]]: detects objects in IMAGE (default: the test image
// shipped beside the app) and writes it with the boxes drawn to OUTPUT.png (default: detections.png).
var imagePath = args.Length > 0 ? args[0] : Path.Combine(AppContext.BaseDirectory, "test-image.png");
var outputPath = args.Length > 1 ? args[1] : "detections.png";
var invariant = CultureInfo.InvariantCulture;

// The model was optimised (BatchNorm folded), checked against the budgets in EmbeddedApp.csproj,
// exported to ONNX, proven to compute what the original Darknet model computes (read back by
// NeuralBuild and run by this project's own ONNX Runtime, on the same seeded input) and embedded by
// `dotnet build`; NeuralModels.Yolov3Tiny is the accessor the build generated for it.
var model = NeuralModels.Yolov3Tiny.DefinitionFileName;
Console.WriteLine($"{model} (model version {NeuralModels.Yolov3Tiny.ModelVersion}), as embedded by NeuralBuild:");
Console.WriteLine(string.Create(invariant,
    $"  input {NeuralModels.Yolov3Tiny.InputShape}, MACC {NeuralModels.Yolov3Tiny.Macc:N0}, params {NeuralModels.Yolov3Tiny.Params:N0}, weights {NeuralModels.Yolov3Tiny.WeightsBytes:N0} bytes, peak activation {NeuralModels.Yolov3Tiny.PeakActivationBytes:N0} bytes"));

// The accessor creates the ONNX Runtime session from the embedded bytes: nothing is unpacked to disk.
var clock = Stopwatch.StartNew();
using var session = NeuralModels.Yolov3Tiny.CreateSession();
Console.WriteLine(string.Create(invariant,
    $"  loaded {NeuralModels.Yolov3Tiny.ExportFileName} into ONNX Runtime {OrtEnv.Instance().GetVersionString()} in {clock.Elapsed.TotalMilliseconds:0} ms"));

// The image, decoded and letterboxed into the network's input (aspect ratio kept, grey borders).
using var image = SKBitmap.Decode(imagePath) ?? throw new InvalidDataException($"{imagePath} is not an image SkiaSharp can decode.");
var (inputName, inputMeta) = session.InputMetadata.First();
var dims = inputMeta.Dimensions.Select(d => d > 0 ? d : 1).ToArray();
var (inputHeight, inputWidth) = (dims[2], dims[3]);
var (pixels, letterbox) = Imaging.ToInput(image, inputWidth, inputHeight);
Console.WriteLine(string.Create(invariant,
    $"  image {Path.GetFileName(imagePath)} {image.Width}x{image.Height}, letterboxed to {inputWidth}x{inputHeight} (scale {letterbox.Scale:0.###}, borders {letterbox.PadX:0}/{letterbox.PadY:0} px)"));
var inputs = new[] { NamedOnnxValue.CreateFromTensor(inputName, new DenseTensor<float>(pixels, dims)) };

// The first run allocates and plans; the second is what inference costs.
float[][] Heads(InferenceSession s)
{
    using var outputs = s.Run(inputs);
    return [.. outputs.Select(o => o.AsTensor<float>().ToArray())];
}

Heads(session);
clock.Restart();
var heads = Heads(session);
Console.WriteLine(string.Create(invariant, $"  inference (warm, ONNX Runtime, CPU): {clock.Elapsed.TotalMilliseconds:0} ms"));

// What it found: the two [yolo] heads decoded into boxes (80 COCO classes; anchors and masks of
// yolov3-tiny.cfg: the 13x13 head takes anchors 3-5, the 26x26 head anchors 0-2), then non-maximum
// suppression per class, as darknet's detector does.
const float threshold = 0.5f; // darknet's detection threshold: objectness x class probability
(float W, float H)[] anchors = [(10, 14), (23, 27), (37, 58), (81, 82), (135, 169), (344, 319)];
var headShapes = session.OutputMetadata.Values.Select(m => m.Dimensions.Select(d => d > 0 ? d : 1).ToArray()).ToArray();
List<Detection> Candidates(float[][] outputs)
{
    var boxes = new List<Detection>();
    var place = 0;
    for (var h = 0; h < outputs.Length; h++)
    {
        var headAnchors = headShapes[h][2] == inputHeight / 32 ? anchors[3..] : anchors[..3];
        boxes.AddRange(Inference.Boxes(headShapes[h], outputs[h], classes: 80, headAnchors, inputWidth, inputHeight, threshold, place));
        place += headAnchors.Length * headShapes[h][2] * headShapes[h][3];
    }

    return boxes;
}

var candidates = Candidates(heads);
var detections = Inference.NonMaximumSuppression(candidates, iou: 0.45f);

// The weights are synthetic (seed 42, no training): the boxes show the pipeline working, not
// objects. Untrained, many boxes are larger than the image; the ones shown and drawn are the
// strongest that lie wholly inside it.
const int shown = 10;
var strongest = detections
    .Select(d => (Box: d, Rect: letterbox.ToImage(d)))
    .Where(b => b.Rect.Width > 0 && b.Rect.Height > 0 && letterbox.Contains(b.Box))
    .Take(shown)
    .ToList();
Console.WriteLine(string.Create(invariant,
    $"  {candidates.Count} boxes over the threshold {threshold}, {detections.Count} after non-maximum suppression; the strongest {strongest.Count} inside the image (image pixels):"));
foreach (var (d, r) in strongest)
{
    Console.WriteLine(string.Create(invariant, $"    class {d.Class,2} score {d.Score:0.000} box ({r.Left:0},{r.Top:0})-({r.Right:0},{r.Bottom:0})"));
}

Imaging.DrawAndSave(image, strongest, outputPath);
Console.WriteLine($"  wrote {outputPath} ({strongest.Count} boxes drawn)");

// The unfused original (Fold="false": BatchNorm kept, exported as read) on the same input gives the
// same heads to float32 rounding, so the same boxes: folding changed how it computes, not what.
using var unfused = NeuralModels.Yolov3TinyUnfused.CreateSession();
var unfusedHeads = Heads(unfused);
var (unmatched, borderline, maxScore, maxCoordinate) = Inference.Compare(candidates, Candidates(unfusedHeads), threshold, borderline: 1e-4f);
Console.WriteLine(string.Create(invariant,
    $"  unfused original ({NeuralModels.Yolov3TinyUnfused.ExportFileName}, BatchNorm kept): max relative difference of the heads {Inference.MaxRelativeDifference(heads, unfusedHeads):0.00E+00}"));
var leftOut = borderline > 0 ? $" ({borderline} within 1e-4 of the threshold left out)" : string.Empty;
Console.WriteLine(unmatched == 0
    ? string.Create(invariant, $"  the same boxes: {candidates.Count - borderline} over the threshold in both, max score difference {maxScore:0.0E+00}, max coordinate difference {maxCoordinate:0.0E+00} of the box size{leftOut}")
    : $"  DIFFERENT boxes: {unmatched} over the threshold in one model only");
return unmatched == 0 ? 0 : 1;

