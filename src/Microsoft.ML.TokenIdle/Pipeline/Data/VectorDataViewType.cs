namespace Microsoft.ML.TokenIdle.Pipeline.Data;

/// <summary>
/// A vector column (ML.NET's <c>VectorDataViewType</c>): items of a primitive type held in a
/// <see cref="VBuffer{T}"/>; known size with dimensions (e.g. [3, 224, 224]) or variable size (0).
/// </summary>
public sealed class VectorDataViewType : DataViewType
{
    /// <summary>A vector of <paramref name="itemType"/> with <paramref name="dimensions"/> (none or a single 0: variable size).</summary>
    public VectorDataViewType(PrimitiveDataViewType itemType, params int[] dimensions)
        : base(typeof(VBuffer<>).MakeGenericType(itemType.RawType))
    {
        if (dimensions.Any(d => d < 0) || (dimensions.Length > 1 && dimensions.Any(d => d == 0)))
        {
            throw new ArgumentException($"vector dimensions must be positive (or a single 0 for variable size), got [{string.Join(", ", dimensions)}]");
        }

        ItemType = itemType;
        Dimensions = dimensions.Length == 0 || (dimensions.Length == 1 && dimensions[0] == 0) ? System.Collections.Immutable.ImmutableArray.Create(0) : System.Collections.Immutable.ImmutableArray.Create(dimensions);
    }

    /// <summary>The item type.</summary>
    public PrimitiveDataViewType ItemType { get; }

    /// <summary>The dimensions ([0] for a variable-size vector).</summary>
    public System.Collections.Immutable.ImmutableArray<int> Dimensions { get; }

    /// <summary>Number of items (0 when variable).</summary>
    public int Size => Dimensions.Aggregate(1, (a, b) => a * b);

    /// <summary>Whether every value has <see cref="Size"/> items.</summary>
    public bool IsKnownSize => Size > 0;

    /// <inheritdoc/>
    public override bool Equals(DataViewType? other) => other is VectorDataViewType v && v.ItemType.Equals(ItemType) && v.Dimensions.SequenceEqual(Dimensions);

    /// <inheritdoc/>
    public override int GetHashCode() => HashCode.Combine(ItemType, Size);

    /// <inheritdoc/>
    public override string ToString() => IsKnownSize ? $"Vector<{ItemType}, {string.Join(", ", Dimensions)}>" : $"Vector<{ItemType}>";
}
