namespace Microsoft.ML.TokenIdle.Training.Data;

/// <summary>The rows of one pass over an <see cref="ImageSource"/>, in the order they are read: each row's key in its source and its class.</summary>
/// <param name="Keys">The source's row keys, in reading order.</param>
/// <param name="Labels">The class index of each row, in the same order.</param>
internal sealed record RowOrder(int[] Keys, int[] Labels)
{

    /// <summary>Rows 0 … <paramref name="count"/> − 1 in order, or in a permutation seeded by <paramref name="seed"/>.</summary>
    public static RowOrder Permutation(int count, int? seed, IReadOnlyList<int> labels)
    {
        var keys = Enumerable.Range(0, count).ToArray();
        if (seed is { } s)
        {
            new Random(s).Shuffle(keys);
        }

        return new RowOrder(keys, keys.Select(k => labels[k]).ToArray());
    }

    /// <summary>Rows in the pass.</summary>
    public int Count => Keys.Length;

    /// <summary>The rows of this order whose keys <paramref name="keep"/> accepts, in the same relative order.</summary>
    public RowOrder Where(Func<int, bool> keep)
    {
        var kept = Enumerable.Range(0, Keys.Length).Where(i => keep(Keys[i])).ToArray();
        return new RowOrder(kept.Select(i => Keys[i]).ToArray(), kept.Select(i => Labels[i]).ToArray());
    }
}
