using static TorchSharp.torch;

namespace Microsoft.ML.TokenIdle.Models.TokenReduction;

/// <summary>What one reducing layer did in a forward pass (for tests, losses and pictures).</summary>
public sealed class TokenReductionRecord
{
    /// <summary>Creates a record.</summary>
    public TokenReductionRecord(int layer, int tokensIn, int tokensOut, int[] kept, int[] keptSources, int batch)
    {
        Layer = layer;
        TokensIn = tokensIn;
        TokensOut = tokensOut;
        Kept = kept;
        KeptSources = keptSources;
        KeptPerImage = kept.Length / batch;
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
    public int[] Kept { get; }

    /// <summary>What each kept token started as: patch number, or <see cref="TokenState.FusedSource"/>.</summary>
    public int[] KeptSources { get; }

    /// <summary>k, kept tokens per image.</summary>
    public int KeptPerImage { get; }

    /// <summary>Training-mode idling: the block's queries, keys and values [B,N,3E] over all tokens.</summary>
    public Tensor? Qkv { get; init; }

    /// <summary>Training-mode idling: 1 for processed tokens (class token included), 0 for idle ones, [B,N].</summary>
    public Tensor? ActiveMask { get; init; }

    /// <summary>Attention heads of the block (with <see cref="Qkv"/>).</summary>
    public int Heads { get; init; }
}
