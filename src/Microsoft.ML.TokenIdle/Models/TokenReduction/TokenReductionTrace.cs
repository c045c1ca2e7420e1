namespace Microsoft.ML.TokenIdle.Models.TokenReduction;

/// <summary>Collects a <see cref="TokenReductionRecord"/> for every reducing layer of a forward pass.</summary>
public sealed class TokenReductionTrace
{
    private readonly List<TokenReductionRecord> _records = new();

    /// <summary>The records in layer order.</summary>
    public IReadOnlyList<TokenReductionRecord> Records => _records;

    /// <summary>The record of <paramref name="layer"/>.</summary>
    /// <exception cref="KeyNotFoundException">The layer did not reduce.</exception>
    public TokenReductionRecord this[int layer]
        => _records.FirstOrDefault(r => r.Layer == layer) ?? throw new KeyNotFoundException($"layer {layer} did not select tokens in this pass");

    /// <summary>Adds a record.</summary>
    public void Add(TokenReductionRecord record) => _records.Add(record);
}
