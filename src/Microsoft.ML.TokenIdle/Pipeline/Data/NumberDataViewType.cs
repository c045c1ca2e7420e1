namespace Microsoft.ML.TokenIdle.Pipeline.Data;

/// <summary>Numeric column types (ML.NET's <c>NumberDataViewType</c>).</summary>
public sealed class NumberDataViewType : PrimitiveDataViewType
{
    private NumberDataViewType(Type rawType)
        : base(rawType)
    {
    }

    /// <summary><see cref="float"/>.</summary>
    public static NumberDataViewType Single { get; } = new(typeof(float));

    /// <summary><see cref="double"/>.</summary>
    public static NumberDataViewType Double { get; } = new(typeof(double));

    /// <summary><see cref="byte"/>.</summary>
    public static NumberDataViewType Byte { get; } = new(typeof(byte));

    /// <summary><see cref="int"/>.</summary>
    public static NumberDataViewType Int32 { get; } = new(typeof(int));

    /// <summary><see cref="uint"/>.</summary>
    public static NumberDataViewType UInt32 { get; } = new(typeof(uint));

    /// <summary><see cref="long"/>.</summary>
    public static NumberDataViewType Int64 { get; } = new(typeof(long));

    /// <summary>The type for a .NET numeric type, or null.</summary>
    public static NumberDataViewType? FromRawType(Type type) =>
        new[] { Single, Double, Byte, Int32, UInt32, Int64 }.FirstOrDefault(t => t.RawType == type);

    /// <inheritdoc/>
    public override string ToString() => RawType.Name;
}

/// <summary>Text (ML.NET's <c>TextDataViewType</c>), held as <see cref="ReadOnlyMemory{T}"/> of char.</summary>
public sealed class TextDataViewType : PrimitiveDataViewType
{
    private TextDataViewType()
        : base(typeof(ReadOnlyMemory<char>))
    {
    }

    /// <summary>The one instance.</summary>
    public static TextDataViewType Instance { get; } = new();

    /// <inheritdoc/>
    public override string ToString() => "String";
}

/// <summary>Booleans (ML.NET's <c>BooleanDataViewType</c>).</summary>
public sealed class BooleanDataViewType : PrimitiveDataViewType
{
    private BooleanDataViewType()
        : base(typeof(bool))
    {
    }

    /// <summary>The one instance.</summary>
    public static BooleanDataViewType Instance { get; } = new();

    /// <inheritdoc/>
    public override string ToString() => "Boolean";
}
