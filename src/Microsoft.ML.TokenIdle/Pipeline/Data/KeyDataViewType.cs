namespace Microsoft.ML.TokenIdle.Pipeline.Data;

/// <summary>
/// A categorical index (ML.NET's <c>KeyDataViewType</c>): values are <see cref="uint"/>, 1 to
/// <see cref="Count"/> for the categories and <b>0 for missing</b>; class i (zero-based) is key i + 1.
/// The category names travel as the column's <c>KeyValues</c> annotation.
/// </summary>
public sealed class KeyDataViewType : PrimitiveDataViewType
{
    /// <summary>A key type of <paramref name="count"/> categories stored as <paramref name="type"/> (only <see cref="uint"/> here).</summary>
    public KeyDataViewType(Type type, ulong count)
        : base(type)
    {
        if (type != typeof(uint))
        {
            throw new ArgumentException($"key types are stored as UInt32 here, not {type.Name}");
        }

        if (count < 1 || count > uint.MaxValue)
        {
            throw new ArgumentOutOfRangeException(nameof(count), count, "a key type needs between 1 and UInt32.MaxValue categories");
        }

        Count = count;
    }

    /// <summary>Number of categories (valid keys are 1..Count).</summary>
    public ulong Count { get; }

    /// <inheritdoc/>
    public override bool Equals(DataViewType? other) => other is KeyDataViewType k && k.Count == Count;

    /// <inheritdoc/>
    public override int GetHashCode() => HashCode.Combine(RawType, Count);

    /// <inheritdoc/>
    public override string ToString() => $"Key<UInt32, 0-{Count - 1}>";
}
