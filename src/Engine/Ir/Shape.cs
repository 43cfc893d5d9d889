using System.Globalization;
using NeuralBuild.Engine.Diagnostics;

namespace NeuralBuild.Engine.Ir;

/// <summary>
/// An immutable tensor shape. Image tensors are NCHW. Every size computation goes through
/// checked arithmetic: a shape whose element count does not fit 64 bits is an error (NM0022),
/// never a wrapped number.
/// </summary>
public sealed class Shape : IEquatable<Shape>
{
    private readonly long[] _dims;

    public Shape(params long[] dims)
    {
        ArgumentNullException.ThrowIfNull(dims);
        _dims = (long[])dims.Clone();
    }

    public static Shape Nchw(long n, long c, long h, long w) => new(n, c, h, w);

    public IReadOnlyList<long> Dims => _dims;

    public int Rank => _dims.Length;

    public long this[int axis] => _dims[axis < 0 ? _dims.Length + axis : axis];

    public long N => Require4()[0];

    public long C => Require4()[1];

    public long H => Require4()[2];

    public long W => Require4()[3];

    /// <summary>Product of all dimensions; throws NM0022 on overflow.</summary>
    public long ElementCount => Checked.Product(_dims);

    /// <summary>Elements per batch item (everything but the first axis).</summary>
    public long ElementsPerItem => Checked.Product(_dims.AsSpan(1));

    public bool IsPositive => _dims.All(d => d > 0);

    public Shape WithDim(int axis, long value)
    {
        var dims = (long[])_dims.Clone();
        dims[axis] = value;
        return new Shape(dims);
    }

    /// <summary>Parses <c>1x3x416x416</c> (also accepts ',' and '*' as separators).</summary>
    public static Shape Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var parts = text.Split(['x', 'X', ',', '*'], StringSplitOptions.TrimEntries);
        var dims = new long[parts.Length];
        for (var i = 0; i < parts.Length; i++)
        {
            if (!long.TryParse(parts[i], NumberStyles.None, CultureInfo.InvariantCulture, out dims[i]) || dims[i] <= 0)
            {
                throw DiagnosticCodes.InvalidInputShape.Exception(SourceLocation.None,
                    $"Input shape '{text}' is not a list of positive integers such as 1x3x416x416.");
            }
        }

        if (dims.Length != 4)
        {
            throw DiagnosticCodes.InvalidInputShape.Exception(SourceLocation.None,
                $"Input shape '{text}' has {dims.Length} dimensions; image models take N x C x H x W, e.g. 1x3x416x416.");
        }

        return new Shape(dims);
    }

    public override string ToString() => string.Join('x', _dims.Select(d => d.ToString(CultureInfo.InvariantCulture)));

    public bool Equals(Shape? other) => other is not null && _dims.AsSpan().SequenceEqual(other._dims);

    public override bool Equals(object? obj) => Equals(obj as Shape);

    public override int GetHashCode()
    {
        var hash = default(HashCode);
        foreach (var d in _dims)
        {
            hash.Add(d);
        }

        return hash.ToHashCode();
    }

    private long[] Require4() =>
        _dims.Length == 4 ? _dims : throw new InvalidOperationException($"Shape {this} is not NCHW.");
}
