namespace Microsoft.ML.TokenIdle.Pipeline.Data;

/// <summary>Names the column a field or property maps to (ML.NET's <c>ColumnNameAttribute</c>).</summary>
[AttributeUsage(AttributeTargets.Field | AttributeTargets.Property)]
public sealed class ColumnNameAttribute : Attribute
{
    /// <summary>Maps the member to column <paramref name="name"/>.</summary>
    public ColumnNameAttribute(string name) => Name = name;

    /// <summary>The column's name.</summary>
    public string Name { get; }
}

/// <summary>Gives an array member a known vector size and shape (ML.NET's <c>VectorTypeAttribute</c>).</summary>
[AttributeUsage(AttributeTargets.Field | AttributeTargets.Property)]
public sealed class VectorTypeAttribute : Attribute
{
    /// <summary>The vector's dimensions (none: variable size).</summary>
    public VectorTypeAttribute(params int[] dimensions) => Dimensions = dimensions;

    /// <summary>The vector's dimensions.</summary>
    public int[] Dimensions { get; }
}

/// <summary>Makes a <see cref="uint"/> member a key column of <see cref="Count"/> categories (ML.NET's <c>KeyTypeAttribute</c>).</summary>
[AttributeUsage(AttributeTargets.Field | AttributeTargets.Property)]
public sealed class KeyTypeAttribute : Attribute
{
    /// <summary>A key of <paramref name="count"/> categories (values 1..count, 0 = missing).</summary>
    public KeyTypeAttribute(ulong count) => Count = count;

    /// <summary>Number of categories.</summary>
    public ulong Count { get; }
}

/// <summary>The source column of a member in a text file, 0-based (ML.NET's <c>LoadColumnAttribute</c>).</summary>
[AttributeUsage(AttributeTargets.Field | AttributeTargets.Property)]
public sealed class LoadColumnAttribute : Attribute
{
    /// <summary>Reads the member from field <paramref name="columnIndex"/> of each line.</summary>
    public LoadColumnAttribute(int columnIndex) => ColumnIndex = columnIndex;

    /// <summary>The field index.</summary>
    public int ColumnIndex { get; }
}

/// <summary>Leaves a member out of the schema (ML.NET's <c>NoColumnAttribute</c>).</summary>
[AttributeUsage(AttributeTargets.Field | AttributeTargets.Property)]
public sealed class NoColumnAttribute : Attribute
{
}
