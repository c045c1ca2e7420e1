using static TorchSharp.torch;

namespace Microsoft.ML.TokenIdle.Models.TokenReduction;

/// <summary>
/// Collects a <see cref="TokenReductionRecord"/> for every reducing layer of a forward pass. The kept tokens stay on
/// the model's device while the pass runs and come to the host in one copy when it ends, and only for a trace made
/// with <c>selections: true</c>: a trace that feeds a loss (queries, keys and masks) copies nothing.
/// </summary>
public sealed class TokenReductionTrace
{
    private readonly List<TokenReductionRecord> _records = new();
    private readonly List<(TokenReductionRecord Record, Tensor Selection)> _pending = new();
    private readonly List<(TokenReductionRecord Record, Tensor PatchTokens)> _pendingMerges = new();
    private Tensor? _pendingPriorities;

    /// <summary>Creates a trace; with <paramref name="selections"/> false its records hold no kept tokens.</summary>
    public TokenReductionTrace(bool selections = true) => Selections = selections;

    /// <summary>Whether the records carry the kept tokens and their sources (<see cref="TokenReductionRecord.Kept"/>), and the trace <see cref="PatchPriorities"/>.</summary>
    public bool Selections { get; }

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

    /// <summary>Records per-patch priorities [B, patches] still on the device; they come to the host when the pass ends.</summary>
    internal void SetPatchPriorities(int layer, Tensor priorities)
    {
        _pendingPriorities?.Dispose();
        (PriorityLayer, _pendingPriorities) = (layer, priorities.detach().to_type(ScalarType.Float32).contiguous().DetachFromDisposeScope());
    }

    /// <summary>Adds a record; <paramref name="selection"/> is its kept indices and their sources side by side, [B, 2k] on the device.</summary>
    internal void Add(TokenReductionRecord record, Tensor? selection)
    {
        _records.Add(record);
        if (selection is not null)
        {
            _pending.Add((record, selection));
        }
    }

    /// <summary>Adds a merging layer's record; <paramref name="patchTokens"/> [B, patches] on the device is the token holding each patch after it.</summary>
    internal void AddMerge(TokenReductionRecord record, Tensor? patchTokens)
    {
        _records.Add(record);
        if (patchTokens is not null)
        {
            _pendingMerges.Add((record, patchTokens.DetachFromDisposeScope()));
        }
    }

    /// <summary>Brings the pass's selections (and the patch priorities, a float copy of their own) to the host and gives each record its part.</summary>
    internal void CompletePass()
    {
        if (_pendingPriorities is { } priorities)
        {
            using (priorities)
            {
                using var host = priorities.cpu();
                PatchPriorities = host.data<float>().ToArray();
            }

            _pendingPriorities = null;
        }

        foreach (var (record, patchTokens) in _pendingMerges)
        {
            using (patchTokens)
            {
                using var host = patchTokens.cpu();
                record.SetPatchTokens(host.data<long>().Select(t => (int)t).ToArray());
            }
        }

        _pendingMerges.Clear();
        if (_pending.Count == 0)
        {
            return;
        }

        using var all = cat(_pending.Select(p => p.Selection).ToArray(), 1).cpu();
        var values = all.data<long>().ToArray();
        var (batch, width) = ((int)all.shape[0], (int)all.shape[1]);
        var offset = 0;
        foreach (var (record, selection) in _pending)
        {
            var k = record.KeptPerImage;
            var (kept, sources) = (new int[batch * k], new int[batch * k]);
            for (var b = 0; b < batch; b++)
            {
                for (var j = 0; j < k; j++)
                {
                    kept[b * k + j] = (int)values[b * width + offset + j];
                    sources[b * k + j] = (int)values[b * width + offset + k + j];
                }
            }

            record.SetSelection(kept, sources);
            offset += 2 * k;
            selection.Dispose();
        }

        _pending.Clear();
    }
}
