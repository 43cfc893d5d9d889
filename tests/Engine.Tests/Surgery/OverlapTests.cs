using NeuralBuild.Engine.Ir;
using NeuralBuild.Engine.Surgery;

namespace NeuralBuild.Engine.Tests.Surgery;

[TestClass]
public sealed class OverlapTests
{
    [TestMethod]
    public void The_leading_indices_of_every_axis_are_copied_and_the_rest_left_alone()
    {
        // 2x3 into 3x2: rows 0-1, columns 0-1 overlap; the target's third row keeps its 9s.
        float[] source = [1, 2, 3, 4, 5, 6];
        float[] target = [9, 9, 9, 9, 9, 9];

        var copied = Overlap.Copy(source, new Shape(2, 3), target, new Shape(3, 2));

        Assert.AreEqual(4, copied);
        CollectionAssert.AreEqual(new float[] { 1, 2, 4, 5, 9, 9 }, target);
    }

    [TestMethod]
    public void A_four_dimensional_overlap_walks_every_row()
    {
        // 2x2x1x2 into 1x2x2x2: the first filter's two channels, each its first kernel row.
        var source = Enumerable.Range(1, 8).Select(i => (float)i).ToArray();
        var target = new float[8];

        var copied = Overlap.Copy(source, new Shape(2, 2, 1, 2), target, new Shape(1, 2, 2, 2));

        Assert.AreEqual(4, copied);
        CollectionAssert.AreEqual(new float[] { 1, 2, 0, 0, 3, 4, 0, 0 }, target);
    }
}
