using static TorchSharp.torch;

namespace Microsoft.ML.TokenIdle.Models.TokenReduction;

/// <summary>What one reducing layer did in a forward pass (for tests, losses and pictures).</summary>
public sealed class TokenReductionRecord
{
    private int[]? _kept;
    private int[]? _keptSources;
    private int[]? _patchTokens;

    internal TokenReductionRecord(int layer, int tokensIn, int tokensOut, int keptPerImage)
    {
        Layer = layer;
        TokensIn = tokensIn;
        TokensOut = tokensOut;
        KeptPerImage = keptPerImage;
    }

    /// <summary>Block index.</summary>
    public int Layer { get; }

    /// <summary>Tokens entering the block, class token included.</summary>
    public int TokensIn { get; }

    /// <summary>Tokens leaving the block.</summary>
    public int TokensOut { get; }

    /// <summary>
    /// Per image (index b·k + j), the kept or processed non-class tokens as 0-based positions among
    /// the non-class tokens entering the block, highest score first.
    /// </summary>
    /// <exception cref="InvalidOperationException">The trace was made without selections.</exception>
    public int[] Kept => _kept ?? throw NoSelections();

    /// <summary>What each kept token started as: patch number, or <see cref="TokenState.FusedSource"/>.</summary>
    /// <exception cref="InvalidOperationException">The trace was made without selections.</exception>
    public int[] KeptSources => _keptSources ?? throw NoSelections();

    /// <summary>
    /// Token merging: per image (index b·patches + p), the position of the token that holds patch p after the block
    /// (1 … <see cref="TokensOut"/> − 1; several patches share a merged token).
    /// </summary>
    /// <exception cref="InvalidOperationException">The trace was made without selections, or the layer did not merge.</exception>
    public int[] PatchTokens => _patchTokens ?? throw new InvalidOperationException($"layer {Layer}: this record holds no merges (a merging layer of a trace made with selections does)");

    /// <summary>
    /// Token merging: per patch of image <paramref name="image"/> (of <paramref name="patches"/> patches), the number of
    /// patches in the token that holds it after the block (1: not merged yet).
    /// </summary>
    /// <exception cref="InvalidOperationException">The trace was made without selections, or the layer did not merge.</exception>
    public int[] MergedSizes(int image, int patches)
    {
        var owners = PatchTokens.AsSpan(image * patches, patches).ToArray();
        var counts = owners.CountBy(o => o).ToDictionary();
        return owners.Select(o => counts[o]).ToArray();
    }

    /// <summary>Whether the layer merged tokens (token merging) rather than choosing some: its record holds <see cref="PatchTokens"/>, not <see cref="Kept"/>.</summary>
    public bool Merges { get; init; }

    /// <summary>k, kept tokens per image.</summary>
    public int KeptPerImage { get; }

    /// <summary>Training-mode idling: the block's queries, keys and values [B,N,3E] over all tokens.</summary>
    public Tensor? Qkv { get; init; }

    /// <summary>Training-mode idling: 1 for processed tokens (class token included), 0 for idle ones, [B,N].</summary>
    public Tensor? ActiveMask { get; init; }

    /// <summary>Attention heads of the block (with <see cref="Qkv"/>).</summary>
    public int Heads { get; init; }

    /// <summary>Sets the host copies of the selection once the pass is over (see <see cref="TokenReductionTrace"/>).</summary>
    internal void SetSelection(int[] kept, int[] keptSources) => (_kept, _keptSources) = (kept, keptSources);

    /// <summary>Sets the host copy of a merging layer's patch-to-token map once the pass is over.</summary>
    internal void SetPatchTokens(int[] patchTokens) => _patchTokens = patchTokens;

    private InvalidOperationException NoSelections()
        => new($"layer {Layer}: this trace was made with selections: false, so it holds no kept tokens");
}
