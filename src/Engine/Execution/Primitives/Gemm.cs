using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace NeuralBuild.Engine.Execution.Primitives;

/// <summary>
/// Blocked single-precision matrix product <c>C (+)= A · B</c>, the engine of convolution.
/// A is pre-packed (<see cref="PackedPanels"/>); B is read in place, row by row (an im2col block
/// or the input itself), so its MR x NR micro-tiles stream straight from L1/L2. The
/// register-blocked micro-kernel keeps a 6 x NR tile of C in vector registers: 6 x 32 with
/// AVX-512 (12 of 32 zmm registers), 6 x 16 with AVX2 (12 of 16 ymm), 6 x 8 with 128-bit vectors
/// (ARM64 NEON, where 256-bit vectors would be emulated element by element). Every element of C
/// is summed over k in the same order whatever the tile width, so results do not depend on the
/// hardware's vector width (given FMA). Callers split the work into disjoint blocks of C and run
/// them in parallel.
/// </summary>
internal static unsafe class Gemm
{
    /// <summary>Rows of A per panel (micro-tile height).</summary>
    public const int MR = 6;

    /// <summary>Depth of one k-block: an A panel block (6 x 256 floats) stays in L1.</summary>
    public const int KC = 256;

    /// <summary>Panels of A per L2-resident block (144 rows x KC = 144 KiB).</summary>
    private const int PanelsPerBlock = 24;

    /// <summary>Columns of a micro-tile: two of the widest hardware vectors.</summary>
    public static readonly int NR = Vector512.IsHardwareAccelerated ? 32 : Vector256.IsHardwareAccelerated ? 16 : 8;

    [ThreadStatic]
    private static float[]? t_edgePanel;

    /// <summary>Rounds <paramref name="n"/> up to a whole number of micro-tile columns.</summary>
    public static int RoundUpToNR(int n) => RoundUp(n, NR);

    private static int RoundUp(int n, int nr) => (n + nr - 1) / nr * nr;

    /// <summary>
    /// C[rows of panels panelStart..panelEnd, 0..n) (+)= A[those rows, kStart..kStart+kc) · B[kc x n].
    /// <paramref name="b"/> points at B[0, 0] with row stride <paramref name="ldb"/>; when
    /// <paramref name="bPadded"/> the columns up to <see cref="RoundUpToNR"/>(n) are readable.
    /// <paramref name="c"/> points at C[row 0 of A, column 0]; rows past A's last row are not written.
    /// </summary>
    public static void MultiplyBlock(PackedPanels a, int panelStart, int panelEnd, int kStart, int kc, float* b, int ldb, int n, bool bPadded, float* c, int ldc, bool accumulate) =>
        MultiplyBlock(NR, a, panelStart, panelEnd, kStart, kc, b, ldb, n, bPadded, c, ldc, accumulate);

    /// <summary>
    /// The whole product <c>C = A · B</c> on one thread: B is K x n and C is A.Rows x n, both
    /// row-major and dense. Convolution drives <see cref="MultiplyBlock(PackedPanels, int, int, int, int, float*, int, int, bool, float*, int, bool)"/>
    /// itself; this is the plain entry (tests run it at every tile width).
    /// </summary>
    internal static void Multiply(int nr, PackedPanels a, ReadOnlySpan<float> b, int n, Span<float> c)
    {
        if (b.Length < a.Cols * n || c.Length < a.Rows * n)
        {
            throw new ArgumentException($"B must hold {a.Cols} x {n} and C {a.Rows} x {n} values.");
        }

        fixed (float* bPtr = b, cPtr = c)
        {
            for (var k0 = 0; k0 < a.Cols; k0 += KC)
            {
                MultiplyBlock(nr, a, 0, a.Panels, k0, Math.Min(KC, a.Cols - k0), bPtr + ((long)k0 * n), n, n, bPadded: false, cPtr, n, accumulate: k0 > 0);
            }
        }
    }

    /// <summary>
    /// <see cref="MultiplyBlock(PackedPanels, int, int, int, int, float*, int, int, bool, float*, int, bool)"/>
    /// with micro-tiles <paramref name="nr"/> (8, 16 or 32) columns wide; a padded B is readable up
    /// to n rounded up to <paramref name="nr"/>. Tests run every width whatever the hardware.
    /// </summary>
    internal static void MultiplyBlock(int nr, PackedPanels a, int panelStart, int panelEnd, int kStart, int kc, float* b, int ldb, int n, bool bPadded, float* c, int ldc, bool accumulate)
    {
        if (nr is not (8 or 16 or 32))
        {
            throw new ArgumentOutOfRangeException(nameof(nr), nr, "Micro-tiles are 8, 16 or 32 columns wide.");
        }

        fixed (float* packed = a.Data)
        {
            for (var block = panelStart; block < panelEnd; block += PanelsPerBlock)
            {
                var blockEnd = Math.Min(panelEnd, block + PanelsPerBlock);
                for (var jr = 0; jr < n; jr += nr)
                {
                    var cols = Math.Min(nr, n - jr);
                    var bTile = b + jr;
                    var bStride = ldb;
                    if (cols < nr && !bPadded)
                    {
                        // The last columns of an unpadded B: copy them into a zero-padded micro-panel
                        // rather than read past the end of the caller's array.
                        var edge = t_edgePanel is { } e && e.Length >= kc * nr ? e : t_edgePanel = new float[KC * 32];
                        fixed (float* edgePtr = edge)
                        {
                            for (var k = 0; k < kc; k++)
                            {
                                var src = b + ((long)k * ldb) + jr;
                                var dst = edgePtr + (k * nr);
                                for (var j = 0; j < nr; j++)
                                {
                                    dst[j] = j < cols ? src[j] : 0f;
                                }
                            }

                            RunPanels(nr, packed, a, block, blockEnd, kStart, kc, edgePtr, nr, c + jr, ldc, cols, accumulate);
                        }

                        continue;
                    }

                    RunPanels(nr, packed, a, block, blockEnd, kStart, kc, bTile, bStride, c + jr, ldc, cols, accumulate);
                }
            }
        }
    }

    private static void RunPanels(int nr, float* packed, PackedPanels a, int panelStart, int panelEnd, int kStart, int kc, float* b, int ldb, float* c, int ldc, int cols, bool accumulate)
    {
        for (var p = panelStart; p < panelEnd; p++)
        {
            var rows = Math.Min(MR, a.Rows - (p * MR));
            var aPanel = packed + ((((long)p * a.Cols) + kStart) * MR);
            var cTile = c + ((long)p * MR * ldc);
            switch (nr)
            {
                case 32:
                    Micro512(kc, aPanel, b, ldb, cTile, ldc, rows, cols, accumulate);
                    break;
                case 16:
                    Micro256(kc, aPanel, b, ldb, cTile, ldc, rows, cols, accumulate);
                    break;
                default:
                    Micro128(kc, aPanel, b, ldb, cTile, ldc, rows, cols, accumulate);
                    break;
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Micro128(int kc, float* a, float* b, int ldb, float* c, int ldc, int rows, int cols, bool accumulate)
    {
        Vector128<float> c00 = default, c01 = default, c10 = default, c11 = default, c20 = default, c21 = default;
        Vector128<float> c30 = default, c31 = default, c40 = default, c41 = default, c50 = default, c51 = default;
        for (var k = 0; k < kc; k++)
        {
            var b0 = Vector128.Load(b);
            var b1 = Vector128.Load(b + 4);
            var x = Vector128.Create(a[0]);
            c00 = Vector128.MultiplyAddEstimate(x, b0, c00);
            c01 = Vector128.MultiplyAddEstimate(x, b1, c01);
            x = Vector128.Create(a[1]);
            c10 = Vector128.MultiplyAddEstimate(x, b0, c10);
            c11 = Vector128.MultiplyAddEstimate(x, b1, c11);
            x = Vector128.Create(a[2]);
            c20 = Vector128.MultiplyAddEstimate(x, b0, c20);
            c21 = Vector128.MultiplyAddEstimate(x, b1, c21);
            x = Vector128.Create(a[3]);
            c30 = Vector128.MultiplyAddEstimate(x, b0, c30);
            c31 = Vector128.MultiplyAddEstimate(x, b1, c31);
            x = Vector128.Create(a[4]);
            c40 = Vector128.MultiplyAddEstimate(x, b0, c40);
            c41 = Vector128.MultiplyAddEstimate(x, b1, c41);
            x = Vector128.Create(a[5]);
            c50 = Vector128.MultiplyAddEstimate(x, b0, c50);
            c51 = Vector128.MultiplyAddEstimate(x, b1, c51);
            a += MR;
            b += ldb;
        }

        if (rows == MR && cols == 8)
        {
            Store128(c, c00, c01, accumulate);
            Store128(c + ldc, c10, c11, accumulate);
            Store128(c + (2 * ldc), c20, c21, accumulate);
            Store128(c + (3 * ldc), c30, c31, accumulate);
            Store128(c + (4 * ldc), c40, c41, accumulate);
            Store128(c + (5 * ldc), c50, c51, accumulate);
            return;
        }

        var tile = stackalloc float[MR * 8];
        c00.Store(tile); c01.Store(tile + 4);
        c10.Store(tile + 8); c11.Store(tile + 12);
        c20.Store(tile + 16); c21.Store(tile + 20);
        c30.Store(tile + 24); c31.Store(tile + 28);
        c40.Store(tile + 32); c41.Store(tile + 36);
        c50.Store(tile + 40); c51.Store(tile + 44);
        StoreEdge(tile, 8, c, ldc, rows, cols, accumulate);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Micro256(int kc, float* a, float* b, int ldb, float* c, int ldc, int rows, int cols, bool accumulate)
    {
        Vector256<float> c00 = default, c01 = default, c10 = default, c11 = default, c20 = default, c21 = default;
        Vector256<float> c30 = default, c31 = default, c40 = default, c41 = default, c50 = default, c51 = default;
        for (var k = 0; k < kc; k++)
        {
            var b0 = Vector256.Load(b);
            var b1 = Vector256.Load(b + 8);
            var x = Vector256.Create(a[0]);
            c00 = Vector256.MultiplyAddEstimate(x, b0, c00);
            c01 = Vector256.MultiplyAddEstimate(x, b1, c01);
            x = Vector256.Create(a[1]);
            c10 = Vector256.MultiplyAddEstimate(x, b0, c10);
            c11 = Vector256.MultiplyAddEstimate(x, b1, c11);
            x = Vector256.Create(a[2]);
            c20 = Vector256.MultiplyAddEstimate(x, b0, c20);
            c21 = Vector256.MultiplyAddEstimate(x, b1, c21);
            x = Vector256.Create(a[3]);
            c30 = Vector256.MultiplyAddEstimate(x, b0, c30);
            c31 = Vector256.MultiplyAddEstimate(x, b1, c31);
            x = Vector256.Create(a[4]);
            c40 = Vector256.MultiplyAddEstimate(x, b0, c40);
            c41 = Vector256.MultiplyAddEstimate(x, b1, c41);
            x = Vector256.Create(a[5]);
            c50 = Vector256.MultiplyAddEstimate(x, b0, c50);
            c51 = Vector256.MultiplyAddEstimate(x, b1, c51);
            a += MR;
            b += ldb;
        }

        if (rows == MR && cols == 16)
        {
            Store256(c, c00, c01, accumulate);
            Store256(c + ldc, c10, c11, accumulate);
            Store256(c + (2 * ldc), c20, c21, accumulate);
            Store256(c + (3 * ldc), c30, c31, accumulate);
            Store256(c + (4 * ldc), c40, c41, accumulate);
            Store256(c + (5 * ldc), c50, c51, accumulate);
            return;
        }

        var tile = stackalloc float[MR * 16];
        c00.Store(tile); c01.Store(tile + 8);
        c10.Store(tile + 16); c11.Store(tile + 24);
        c20.Store(tile + 32); c21.Store(tile + 40);
        c30.Store(tile + 48); c31.Store(tile + 56);
        c40.Store(tile + 64); c41.Store(tile + 72);
        c50.Store(tile + 80); c51.Store(tile + 88);
        StoreEdge(tile, 16, c, ldc, rows, cols, accumulate);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Micro512(int kc, float* a, float* b, int ldb, float* c, int ldc, int rows, int cols, bool accumulate)
    {
        Vector512<float> c00 = default, c01 = default, c10 = default, c11 = default, c20 = default, c21 = default;
        Vector512<float> c30 = default, c31 = default, c40 = default, c41 = default, c50 = default, c51 = default;
        for (var k = 0; k < kc; k++)
        {
            var b0 = Vector512.Load(b);
            var b1 = Vector512.Load(b + 16);
            var x = Vector512.Create(a[0]);
            c00 = Vector512.MultiplyAddEstimate(x, b0, c00);
            c01 = Vector512.MultiplyAddEstimate(x, b1, c01);
            x = Vector512.Create(a[1]);
            c10 = Vector512.MultiplyAddEstimate(x, b0, c10);
            c11 = Vector512.MultiplyAddEstimate(x, b1, c11);
            x = Vector512.Create(a[2]);
            c20 = Vector512.MultiplyAddEstimate(x, b0, c20);
            c21 = Vector512.MultiplyAddEstimate(x, b1, c21);
            x = Vector512.Create(a[3]);
            c30 = Vector512.MultiplyAddEstimate(x, b0, c30);
            c31 = Vector512.MultiplyAddEstimate(x, b1, c31);
            x = Vector512.Create(a[4]);
            c40 = Vector512.MultiplyAddEstimate(x, b0, c40);
            c41 = Vector512.MultiplyAddEstimate(x, b1, c41);
            x = Vector512.Create(a[5]);
            c50 = Vector512.MultiplyAddEstimate(x, b0, c50);
            c51 = Vector512.MultiplyAddEstimate(x, b1, c51);
            a += MR;
            b += ldb;
        }

        if (rows == MR && cols == 32)
        {
            Store512(c, c00, c01, accumulate);
            Store512(c + ldc, c10, c11, accumulate);
            Store512(c + (2 * ldc), c20, c21, accumulate);
            Store512(c + (3 * ldc), c30, c31, accumulate);
            Store512(c + (4 * ldc), c40, c41, accumulate);
            Store512(c + (5 * ldc), c50, c51, accumulate);
            return;
        }

        var tile = stackalloc float[MR * 32];
        c00.Store(tile); c01.Store(tile + 16);
        c10.Store(tile + 32); c11.Store(tile + 48);
        c20.Store(tile + 64); c21.Store(tile + 80);
        c30.Store(tile + 96); c31.Store(tile + 112);
        c40.Store(tile + 128); c41.Store(tile + 144);
        c50.Store(tile + 160); c51.Store(tile + 176);
        StoreEdge(tile, 32, c, ldc, rows, cols, accumulate);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store128(float* c, Vector128<float> lo, Vector128<float> hi, bool accumulate)
    {
        if (accumulate)
        {
            lo += Vector128.Load(c);
            hi += Vector128.Load(c + 4);
        }

        lo.Store(c);
        hi.Store(c + 4);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store256(float* c, Vector256<float> lo, Vector256<float> hi, bool accumulate)
    {
        if (accumulate)
        {
            lo += Vector256.Load(c);
            hi += Vector256.Load(c + 8);
        }

        lo.Store(c);
        hi.Store(c + 8);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store512(float* c, Vector512<float> lo, Vector512<float> hi, bool accumulate)
    {
        if (accumulate)
        {
            lo += Vector512.Load(c);
            hi += Vector512.Load(c + 16);
        }

        lo.Store(c);
        hi.Store(c + 16);
    }

    private static void StoreEdge(float* tile, int nr, float* c, int ldc, int rows, int cols, bool accumulate)
    {
        for (var r = 0; r < rows; r++)
        {
            var dst = c + ((long)r * ldc);
            var src = tile + (r * nr);
            for (var j = 0; j < cols; j++)
            {
                dst[j] = accumulate ? dst[j] + src[j] : src[j];
            }
        }
    }
}
