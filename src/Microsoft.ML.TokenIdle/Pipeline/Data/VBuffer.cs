namespace Microsoft.ML.TokenIdle.Pipeline.Data;

/// <summary>
/// A vector value (ML.NET's <c>VBuffer&lt;T&gt;</c>): <see cref="Length"/> logical items, stored densely
/// or as (index, value) pairs for the non-default items. Getters fill a caller's buffer so values are
/// not allocated per row.
/// </summary>
public readonly struct VBuffer<T>
{
    private readonly T[]? _values;
    private readonly int[]? _indices;
    private readonly int _count;

    /// <summary>A vector of <paramref name="length"/> items: dense when <paramref name="indices"/> is null, else one (index, value) pair per value.</summary>
    public VBuffer(int length, T[] values, int[]? indices = null)
        : this(length, indices is null ? length : values.Length, values, indices)
    {
    }

    /// <summary>A vector with explicit count of stored items.</summary>
    public VBuffer(int length, int count, T[] values, int[]? indices)
    {
        if (length < 0 || count < 0 || count > values.Length || (indices is null ? count != length : count > indices.Length || count > length))
        {
            throw new ArgumentException($"VBuffer: length {length} and count {count} do not fit {values.Length} values and {indices?.Length.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "no"} indices");
        }

        (Length, _count, _values, _indices) = (length, count, values, indices);
    }

    /// <summary>Logical number of items.</summary>
    public int Length { get; }

    /// <summary>Whether every item is stored.</summary>
    public bool IsDense => _indices is null;

    /// <summary>The stored values (all items when dense).</summary>
    public ReadOnlySpan<T> GetValues() => _values.AsSpan(0, _count);

    /// <summary>The indices of the stored values (empty when dense).</summary>
    public ReadOnlySpan<int> GetIndices() => _indices is null ? ReadOnlySpan<int>.Empty : _indices.AsSpan(0, _count);

    /// <summary>All <see cref="Length"/> items in order, defaults where not stored.</summary>
    public IEnumerable<T> DenseValues()
    {
        if (IsDense)
        {
            for (var i = 0; i < Length; i++)
            {
                yield return _values![i];
            }

            yield break;
        }

        var next = 0;
        for (var i = 0; i < Length; i++)
        {
            yield return next < _count && _indices![next] == i ? _values![next++] : default!;
        }
    }

    /// <summary>Writes all items densely into <paramref name="destination"/>.</summary>
    public void CopyTo(Span<T> destination)
    {
        if (destination.Length < Length)
        {
            throw new ArgumentException($"destination holds {destination.Length} items, the vector {Length}");
        }

        if (IsDense)
        {
            GetValues().CopyTo(destination);
            return;
        }

        destination[..Length].Clear();
        var values = GetValues();
        var indices = GetIndices();
        for (var i = 0; i < values.Length; i++)
        {
            destination[indices[i]] = values[i];
        }
    }

    /// <summary>The items as a new dense array.</summary>
    public T[] ToArray()
    {
        var result = new T[Length];
        CopyTo(result);
        return result;
    }
}
