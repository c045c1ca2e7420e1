namespace Microsoft.ML.TokenIdle.Pipeline;

/// <summary>One row's values, read through typed getters (ML.NET's <c>DataViewRow</c>).</summary>
public abstract class DataViewRow : IDisposable
{
    /// <summary>The row's position (−1 before the first row).</summary>
    public abstract long Position { get; }

    /// <summary>Batch id of the row (0 here: one cursor per view).</summary>
    public abstract long Batch { get; }

    /// <summary>The row's columns.</summary>
    public abstract DataViewSchema Schema { get; }

    /// <summary>Whether <paramref name="column"/> was asked for when the cursor was made.</summary>
    public abstract bool IsColumnActive(DataViewSchema.Column column);

    /// <summary>A getter for <paramref name="column"/>'s value at the current row.</summary>
    /// <exception cref="InvalidOperationException">Inactive column or a <typeparamref name="TValue"/> that is not the column's raw type.</exception>
    public abstract ValueGetter<TValue> GetGetter<TValue>(DataViewSchema.Column column);

    /// <inheritdoc/>
    public void Dispose()
    {
        Dispose(true);
        GC.SuppressFinalize(this);
    }

    /// <summary>Releases what the row holds.</summary>
    protected virtual void Dispose(bool disposing)
    {
    }
}

/// <summary>A row that moves forward through a view (ML.NET's <c>DataViewRowCursor</c>).</summary>
public abstract class DataViewRowCursor : DataViewRow
{
    /// <summary>Advances to the next row; false at the end.</summary>
    public abstract bool MoveNext();
}
