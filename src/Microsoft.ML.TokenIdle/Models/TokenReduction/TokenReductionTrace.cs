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

    /// <summary>
    /// Per-patch priorities a selector computed once for the whole pass (life regression's lives τ),
    /// [B × patches] in patch order, or null; <see cref="PriorityLayer"/> is the block they were computed before.
    /// </summary>
    public float[]? PatchPriorities { get; private set; }

    /// <summary>The block before which <see cref="PatchPriorities"/> were computed (−1 when none).</summary>
    public int PriorityLayer { get; private set; } = -1;

    /// <summary>Records per-patch priorities (see <see cref="PatchPriorities"/>).</summary>
    public void SetPatchPriorities(int layer, float[] priorities) => (PriorityLayer, PatchPriorities) = (layer, priorities);

    /// <summary>Adds a record.</summary>
    public void Add(TokenReductionRecord record) => _records.Add(record);
}
