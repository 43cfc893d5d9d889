namespace NeuralBuild.Engine.Tests.Evaluation;

/// <summary>
/// A Darknet classifier (cls.cfg, cls.weights) and its evaluation inputs (inputs/), made so that the
/// top-1 class of the original and of its int8 export is known by hand on every input. Shared by the
/// tool's and the tasks' tests.
/// </summary>
internal static class TieClassifier
{
    private const string Cfg = """
        [net]
        width=8
        height=8
        channels=3

        [convolutional]
        filters=128
        size=3
        stride=1
        pad=1
        activation=leaky

        [convolutional]
        filters=10
        size=1
        stride=1
        pad=0
        activation=linear

        [avgpool]

        [softmax]
        """;

    /// <summary>
    /// The weights (numpy writes them, Darknet's layout: header, then per layer biases and weights) and
    /// the inputs: six .npy tensors (float32 with and without the batch dimension, one float64) and one PNG.
    /// Both convs have at least 1024 weights, so both are quantized. Feature 0 of the first conv is 1
    /// plus at most 27 x 0.01 x 1: positive on every input. Classes 0 and 1 have bias 5 and the same
    /// weights except on feature 0, where class 1 has 1e-4 more: the original's top-1 is class 1 on
    /// every input (by 1e-4 x feature 0 &gt; 0), and the other classes (bias 0, weights of 0.01) stay far
    /// below. Quantized per channel to int8, both rows have the same range [-0.3, 0.4], and 0 and 1e-4
    /// round to the same step (1e-4 is 4% of a step of 0.7 / 255): the rows become equal, classes 0 and
    /// 1 tie, and the top-1 is class 0: top-1 agreement 0 of 7, top-5 agreement 7 of 7.
    /// </summary>
    public static void Write(string directory)
    {
        File.WriteAllText(Path.Combine(directory, "cls.cfg"), Cfg);
        PythonScript.Run(directory, """
            import numpy as np, struct, os
            from PIL import Image
            rng = np.random.default_rng(11)
            with open('cls.weights', 'wb') as f:
                f.write(struct.pack('<iiiq', 0, 2, 0, 0))
                b1 = np.zeros(128, '<f4'); b1[0] = 1
                w1 = rng.normal(0, 0.1, (128, 3, 3, 3)).astype('<f4')
                w1[0] = rng.uniform(-0.01, 0.01, (3, 3, 3))
                f.write(b1.tobytes()); f.write(w1.tobytes())
                b2 = np.zeros(10, '<f4'); b2[0] = b2[1] = 5
                w2 = rng.normal(0, 0.01, (10, 128)).astype('<f4')
                w2[0] = np.concatenate([[0, -0.3, 0.4], rng.uniform(-0.05, 0.05, 125)])
                w2[1] = w2[0]
                w2[1, 0] = 1e-4
                f.write(b2.tobytes()); f.write(w2.tobytes())
            os.mkdir('inputs')
            for i in range(4):
                np.save(f'inputs/in{i}.npy', rng.uniform(-1, 1, (1, 3, 8, 8)).astype('<f4'))
            np.save('inputs/unbatched.npy', rng.uniform(-1, 1, (3, 8, 8)).astype('<f4'))
            np.save('inputs/wide.npy', rng.uniform(-1, 1, (1, 3, 8, 8)).astype('<f8'))
            Image.fromarray(rng.integers(0, 256, (8, 8, 3), dtype=np.uint8)).save('inputs/photo.png')
            open('inputs/README.txt', 'w').write('not an input')
            """);
    }
}
