namespace Microsoft.ML.TokenIdle.Pipeline;

/// <summary>
/// A lazy, immutable table read through cursors (ML.NET's <c>IDataView</c>). Transforms wrap their
/// input and compute on demand; nothing is materialised until a cursor moves.
/// </summary>
public interface IDataView
{
    /// <summary>Whether <see cref="GetRowCursor"/> can visit rows in a random order.</summary>
    bool CanShuffle { get; }

    /// <summary>The columns.</summary>
    DataViewSchema Schema { get; }

    /// <summary>The number of rows when known cheaply, else null.</summary>
    long? GetRowCount();

    /// <summary>A cursor over the rows that makes <paramref name="columnsNeeded"/> readable (shuffled by <paramref name="rand"/> when given and supported).</summary>
    DataViewRowCursor GetRowCursor(IEnumerable<DataViewSchema.Column> columnsNeeded, Random? rand = null);

    /// <summary>Up to <paramref name="n"/> cursors that together visit every row once (this library returns one).</summary>
    DataViewRowCursor[] GetRowCursorSet(IEnumerable<DataViewSchema.Column> columnsNeeded, int n, Random? rand = null);
}
