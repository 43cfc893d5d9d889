namespace NeuralBuild.Engine.Passes;

/// <summary>
/// A truncated singular value decomposition of a weight matrix W (J outputs × I inputs), as two
/// factors <c>W ≈ B · A</c> with A (r × I) and B (J × r). Computed from the eigenvectors of the
/// smaller Gram matrix: for J ≤ I, <c>W Wᵀ = U Λ Uᵀ</c>, A = U_rᵀ W, B = U_r; otherwise
/// <c>Wᵀ W = V Λ Vᵀ</c>, A = V_rᵀ, B = W V_r. The eigenvalues are the squared singular values, so
/// the energy kept by rank r is <c>Σ_{k&lt;r} λ_k / Σ λ</c> and the weights' relative Frobenius
/// error is the square root of the rest. Double precision throughout.
/// </summary>
internal sealed class LowRankFactors
{
    /// <summary>The largest Gram matrix side factorised: the cyclic Jacobi method costs about n³ per sweep.</summary>
    public const int MaxSide = 1024;

    private readonly double[] _weights;
    private readonly int _outputs;
    private readonly int _inputs;
    private readonly double[,] _vectors;

    private LowRankFactors(double[] weights, int outputs, int inputs, double[] eigenvalues, double[,] vectors)
    {
        _weights = weights;
        _outputs = outputs;
        _inputs = inputs;
        Eigenvalues = eigenvalues;
        _vectors = vectors;
    }

    /// <summary>Squared singular values, largest first (negative rounding clamped to 0).</summary>
    public double[] Eigenvalues { get; }

    public int FullRank => Eigenvalues.Length;

    /// <summary>Factorises W (row-major J × I).</summary>
    public static LowRankFactors Of(float[] weights, int outputs, int inputs)
    {
        var w = weights.Select(v => (double)v).ToArray();
        var side = Math.Min(outputs, inputs);
        var byRows = outputs <= inputs;
        var gram = new double[side, side];
        for (var p = 0; p < side; p++)
        {
            for (var q = p; q < side; q++)
            {
                double sum = 0;
                if (byRows)
                {
                    for (var k = 0; k < inputs; k++)
                    {
                        sum += w[(p * inputs) + k] * w[(q * inputs) + k];
                    }
                }
                else
                {
                    for (var k = 0; k < outputs; k++)
                    {
                        sum += w[(k * inputs) + p] * w[(k * inputs) + q];
                    }
                }

                gram[p, q] = gram[q, p] = sum;
            }
        }

        var (values, vectors) = SymmetricEigen(gram);
        return new LowRankFactors(w, outputs, inputs, values, vectors);
    }

    /// <summary>The smallest rank whose eigenvalues keep at least <paramref name="fraction"/> of the energy (at least 1).</summary>
    public int RankFor(double fraction)
    {
        var total = Eigenvalues.Sum();
        double kept = 0;
        for (var r = 0; r < Eigenvalues.Length; r++)
        {
            kept += Eigenvalues[r];
            if (kept >= fraction * total)
            {
                return r + 1;
            }
        }

        return Eigenvalues.Length;
    }

    /// <summary>Fraction of the energy rank <paramref name="rank"/> keeps.</summary>
    public double EnergyKept(int rank)
    {
        var total = Eigenvalues.Sum();
        return total == 0 ? 1 : Eigenvalues.Take(rank).Sum() / total;
    }

    /// <summary>A (r × I) and B (J × r), row-major, as float32.</summary>
    public (float[] First, float[] Second) Factors(int rank)
    {
        var first = new float[rank * _inputs];
        var second = new float[_outputs * rank];
        var byRows = _outputs <= _inputs;
        for (var r = 0; r < rank; r++)
        {
            if (byRows)
            {
                // A = U_rᵀ W, B = U_r.
                for (var i = 0; i < _inputs; i++)
                {
                    double sum = 0;
                    for (var j = 0; j < _outputs; j++)
                    {
                        sum += _vectors[j, r] * _weights[(j * _inputs) + i];
                    }

                    first[(r * _inputs) + i] = (float)sum;
                }

                for (var j = 0; j < _outputs; j++)
                {
                    second[(j * rank) + r] = (float)_vectors[j, r];
                }
            }
            else
            {
                // A = V_rᵀ, B = W V_r.
                for (var i = 0; i < _inputs; i++)
                {
                    first[(r * _inputs) + i] = (float)_vectors[i, r];
                }

                for (var j = 0; j < _outputs; j++)
                {
                    double sum = 0;
                    for (var i = 0; i < _inputs; i++)
                    {
                        sum += _weights[(j * _inputs) + i] * _vectors[i, r];
                    }

                    second[(j * rank) + r] = (float)sum;
                }
            }
        }

        return (first, second);
    }

    /// <summary>
    /// Eigenvalues (descending) and eigenvectors (columns) of a symmetric matrix by the cyclic Jacobi
    /// method: rotations that zero one off-diagonal element at a time, swept until the off-diagonal
    /// mass is negligible against the diagonal.
    /// </summary>
    internal static (double[] Values, double[,] Vectors) SymmetricEigen(double[,] matrix)
    {
        var n = matrix.GetLength(0);
        var a = (double[,])matrix.Clone();
        var v = new double[n, n];
        for (var i = 0; i < n; i++)
        {
            v[i, i] = 1;
        }

        for (var sweep = 0; sweep < 100; sweep++)
        {
            double off = 0, diagonal = 0;
            for (var p = 0; p < n; p++)
            {
                diagonal += a[p, p] * a[p, p];
                for (var q = p + 1; q < n; q++)
                {
                    off += a[p, q] * a[p, q];
                }
            }

            if (off <= 1e-30 * Math.Max(diagonal, double.Epsilon))
            {
                break;
            }

            for (var p = 0; p < n - 1; p++)
            {
                for (var q = p + 1; q < n; q++)
                {
                    if (a[p, q] == 0)
                    {
                        continue;
                    }

                    var theta = (a[q, q] - a[p, p]) / (2 * a[p, q]);
                    var t = (theta >= 0 ? 1 : -1) / (Math.Abs(theta) + Math.Sqrt((theta * theta) + 1));
                    var c = 1 / Math.Sqrt((t * t) + 1);
                    var s = t * c;
                    Rotate(a, v, n, p, q, c, s);
                }
            }
        }

        var order = Enumerable.Range(0, n).OrderByDescending(i => a[i, i]).ToArray();
        var values = order.Select(i => Math.Max(0, a[i, i])).ToArray();
        var vectors = new double[n, n];
        for (var k = 0; k < n; k++)
        {
            for (var i = 0; i < n; i++)
            {
                vectors[i, k] = v[i, order[k]];
            }
        }

        return (values, vectors);
    }

    /// <summary><c>A ← Pᵀ A P</c>, <c>V ← V P</c> for the rotation P of plane (p, q): P_pp = P_qq = c, P_pq = s, P_qp = -s.</summary>
    private static void Rotate(double[,] a, double[,] v, int n, int p, int q, double c, double s)
    {
        for (var k = 0; k < n; k++)
        {
            var akp = a[k, p];
            var akq = a[k, q];
            a[k, p] = (c * akp) - (s * akq);
            a[k, q] = (s * akp) + (c * akq);
        }

        for (var k = 0; k < n; k++)
        {
            var apk = a[p, k];
            var aqk = a[q, k];
            a[p, k] = (c * apk) - (s * aqk);
            a[q, k] = (s * apk) + (c * aqk);
        }

        for (var k = 0; k < n; k++)
        {
            var vkp = v[k, p];
            var vkq = v[k, q];
            v[k, p] = (c * vkp) - (s * vkq);
            v[k, q] = (s * vkp) + (c * vkq);
        }
    }
}
