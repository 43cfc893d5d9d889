using NeuralBuild.Engine.Diagnostics;
using NeuralBuild.Engine.Evaluation;
using NeuralBuild.Engine.Ir;
using NeuralBuild.Engine.Tests.Support;

namespace NeuralBuild.Engine.Tests.Evaluation;

/// <summary>A folder of inputs: .npy and images mixed, ordinal order, other files skipped; what does not fit the model is a coded error.</summary>
[TestClass]
public sealed class EvaluationInputsTests
{
    [TestMethod]
    public void A_folder_mixes_npy_and_images_in_ordinal_order_and_skips_other_files()
    {
        using var temp = new TempDirectory();
        PythonScript.Run(temp.Path, """
            import numpy as np
            from PIL import Image
            np.save('B.npy', np.full((1, 3, 2, 2), 7, dtype='<f4'))
            np.save('c.npy', np.full((3, 2, 2), 9, dtype='<f4'))
            Image.new('RGB', (2, 2), (255, 255, 255)).save('a.png')
            open('labels.txt', 'w').write('cat\n')
            """);

        var inputs = EvaluationInputs.FromPath(temp.Path, InputPreprocessing.Default);

        // Ordinal: 'B' (66) sorts before 'a' (97) and 'c'.
        CollectionAssert.AreEqual(new[] { "B.npy", "a.png", "c.npy" }, inputs.Files.Select(Path.GetFileName).ToArray());
        Assert.AreEqual(1, inputs.Skipped);
        var shape = Shape.Nchw(1, 3, 2, 2);
        Assert.IsTrue(inputs.Load(0, shape).Data.All(v => v == 7));
        Assert.IsTrue(inputs.Load(1, shape).Data.All(v => v == 1), "white in [0, 1]");
        var unbatched = inputs.Load(2, shape);
        Assert.AreEqual(shape, unbatched.Shape, "a tensor without the batch dimension of 1 gets it");
        StringAssert.Contains(inputs.Describe(), "3 input file(s)");
        StringAssert.Contains(inputs.Describe(), "(1 other file(s) skipped)");
    }

    [TestMethod]
    public void A_tensor_of_another_shape_is_NM0378_at_its_file()
    {
        using var temp = new TempDirectory();
        PythonScript.Run(temp.Path, "import numpy as np; np.save('wrong.npy', np.zeros((1, 3, 4, 4), dtype='<f4'))");
        var inputs = EvaluationInputs.FromPath(temp.Combine("wrong.npy"), InputPreprocessing.Default);

        var error = DiagnosticAssert.Throws(DiagnosticCodes.EvaluationInputMismatch, () => inputs.Load(0, Shape.Nchw(1, 3, 2, 2)));
        StringAssert.Contains(error.Message, "1x3x4x4 is not the model's input 1x3x2x2");
        Assert.AreEqual(temp.Combine("wrong.npy"), error.Location.File);
    }

    [TestMethod]
    public void A_missing_or_empty_folder_and_bad_settings_are_NM0379()
    {
        using var temp = new TempDirectory();
        File.WriteAllText(temp.Combine("notes.txt"), "no inputs here");
        DiagnosticAssert.Throws(DiagnosticCodes.InvalidEvaluationSetting, () => EvaluationInputs.FromPath(temp.Path, InputPreprocessing.Default));
        DiagnosticAssert.Throws(DiagnosticCodes.InvalidEvaluationSetting, () => EvaluationInputs.FromPath(temp.Combine("missing"), InputPreprocessing.Default));
        DiagnosticAssert.Throws(DiagnosticCodes.InvalidEvaluationSetting, () => EvaluationInputs.FromPath(temp.Combine("notes.txt"), InputPreprocessing.Default));
        DiagnosticAssert.Throws(DiagnosticCodes.InvalidEvaluationSetting, () => InputPreprocessing.Parse("0.4,x", null, null, null, null, SourceLocation.None));
        DiagnosticAssert.Throws(DiagnosticCodes.InvalidEvaluationSetting, () => InputPreprocessing.Parse(null, "2", "0.5", null, null, SourceLocation.None));
        DiagnosticAssert.Throws(DiagnosticCodes.InvalidEvaluationSetting, () => InputPreprocessing.Parse(null, null, "0", null, null, SourceLocation.None));
        DiagnosticAssert.Throws(DiagnosticCodes.InvalidEvaluationSetting, () => InputPreprocessing.Parse(null, null, null, "rbg", null, SourceLocation.None));
        DiagnosticAssert.Throws(DiagnosticCodes.InvalidEvaluationSetting, () => InputPreprocessing.Parse(null, null, null, null, "crop", SourceLocation.None));
        DiagnosticAssert.Throws(DiagnosticCodes.InvalidEvaluationSetting, () => Engine.Budgets.Top1AgreementBudget.Parse("99", SourceLocation.None));
        DiagnosticAssert.Throws(DiagnosticCodes.InvalidEvaluationSetting, () => Engine.Budgets.Top1AgreementBudget.Parse("101%", SourceLocation.None));
        Assert.AreEqual(0.995, Engine.Budgets.Top1AgreementBudget.Parse(" 99.5% ", SourceLocation.None), 1e-12);
    }

    [TestMethod]
    public void The_synthetic_input_is_the_verifier_s_seeded_one()
    {
        var shape = Shape.Nchw(1, 3, 4, 4);
        var inputs = EvaluationInputs.Synthetic(0x5EED);
        Assert.AreEqual(1, inputs.Count);
        var data = inputs.Load(0, shape).Data;
        Assert.IsTrue(data.All(v => v is >= -1 and < 1));
        CollectionAssert.AreEqual(data, EvaluationInputs.Synthetic(0x5EED).Load(0, shape).Data, "seeded: the same every time");
    }
}
