namespace Microsoft.ML.TokenIdle.Pipeline.Data;

/// <summary>The type of a column's values (ML.NET's <c>DataViewType</c>): the .NET type a getter fills and what it means.</summary>
public abstract class DataViewType : IEquatable<DataViewType>
{
    /// <summary>Creates the type with its raw .NET representation.</summary>
    protected DataViewType(Type rawType) => RawType = rawType;

    /// <summary>The .NET type of the values (the <c>T</c> of <c>ValueGetter&lt;T&gt;</c>).</summary>
    public Type RawType { get; }

    /// <inheritdoc/>
    public abstract bool Equals(DataViewType? other);

    /// <inheritdoc/>
    public override bool Equals(object? obj) => obj is DataViewType other && Equals(other);

    /// <inheritdoc/>
    public override int GetHashCode() => RawType.GetHashCode();
}

/// <summary>A single-value type: numbers, text, booleans and keys.</summary>
public abstract class PrimitiveDataViewType : DataViewType
{
    /// <summary>Creates the type with its raw .NET representation.</summary>
    protected PrimitiveDataViewType(Type rawType)
        : base(rawType)
    {
    }

    /// <inheritdoc/>
    public override bool Equals(DataViewType? other) => other is not null && other.GetType() == GetType() && other.RawType == RawType;
}
