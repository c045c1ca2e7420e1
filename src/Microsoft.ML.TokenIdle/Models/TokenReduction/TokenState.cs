using static TorchSharp.torch;

namespace Microsoft.ML.TokenIdle.Models.TokenReduction;

/// <summary>
/// The tokens between two blocks of a token-reducing forward pass: the token matrix, where each token came from,
/// and an optional per-token priority that a selector carries along (life regression's predicted lives).
/// Reductions produce new states; a state is never changed. Everything lives on the tokens' device: selecting
/// tokens never copies to the host.
/// </summary>
public sealed class TokenState
{
    /// <summary><see cref="Sources"/> value of the class token.</summary>
    public const int ClassSource = -2;

    /// <summary><see cref="Sources"/> value of a token made by fusing others.</summary>
    public const int FusedSource = -1;

    /// <summary>Creates a state; <paramref name="sources"/> is [B, N] int64 beside <paramref name="tokens"/> [B, N, E].</summary>
    public TokenState(Tensor tokens, Tensor sources, Tensor? priority = null)
    {
        if (tokens.dim() != 3 || sources.dim() != 2 || sources.shape[0] != tokens.shape[0] || sources.shape[1] != tokens.shape[1] || sources.dtype != ScalarType.Int64)
        {
            throw new ArgumentException($"token state: tokens must be [B,N,E] with int64 sources [B,N], got {Serialization.Shapes.Format(tokens.shape)} and {sources.dtype} {Serialization.Shapes.Format(sources.shape)}");
        }

        if (priority is not null && (priority.dim() != 2 || priority.shape[0] != tokens.shape[0] || priority.shape[1] != tokens.shape[1]))
        {
            throw new ArgumentException($"token state: priority must be [{tokens.shape[0]},{tokens.shape[1]}], got {Serialization.Shapes.Format(priority.shape)}");
        }

        Tokens = tokens;
        Sources = sources;
        Priority = priority;
    }

    /// <summary>[B, N, E], class token first.</summary>
    public Tensor Tokens { get; }

    /// <summary>
    /// [B, N] int64 on the tokens' device: per image and token, the patch number p ≥ 0 (raster order) the token
    /// started as, <see cref="ClassSource"/> or <see cref="FusedSource"/>.
    /// </summary>
    public Tensor Sources { get; }

    /// <summary>Per-token priority [B, N] carried with the tokens, or null.</summary>
    public Tensor? Priority { get; }

    /// <summary>Images in the batch.</summary>
    public int Batch => (int)Tokens.shape[0];

    /// <summary>Tokens per image, class token included.</summary>
    public int Count => (int)Tokens.shape[1];

    /// <summary>The state right after the embedding: class token, then every patch in raster order.</summary>
    public static TokenState FromEmbedding(Tensor tokens)
    {
        var (b, n) = (tokens.shape[0], tokens.shape[1]);
        var classSource = full(1, ClassSource, dtype: ScalarType.Int64, device: tokens.device);
        var sources = cat(new[] { classSource, arange(n - 1, dtype: ScalarType.Int64, device: tokens.device) }, 0);
        return new TokenState(tokens, sources.unsqueeze(0).expand(b, -1));
    }

    /// <summary>The same sources and priority with new token values of the same shape.</summary>
    public TokenState WithTokens(Tensor tokens) => new(tokens, Sources, Priority);

    /// <summary>The same tokens with a priority attached.</summary>
    public TokenState WithPriority(Tensor priority) => new(Tokens, Sources, priority);

    /// <summary>Keeps this state's tensors alive past the innermost dispose scope (a block's scope).</summary>
    public TokenState MoveToOuterDisposeScope()
    {
        Tokens.MoveToOuterDisposeScope();
        Sources.MoveToOuterDisposeScope();
        Priority?.MoveToOuterDisposeScope();
        return this;
    }

    /// <summary>
    /// The tokens at <paramref name="positions"/> ([B, m] int64 sequence positions), with their sources and
    /// priorities; token values flow through a differentiable row selection.
    /// </summary>
    public TokenState Select(Tensor positions)
        => new(TokenSelection.Rows(Tokens, TokenSelection.RowIndex(positions, Count)), Sources.gather(1, positions), Priority?.gather(1, positions));

    /// <summary>Appends one token per image ([B,1,E]) made by fusion, with the given priority ([B,1]) when this state carries priorities.</summary>
    public TokenState AppendFused(Tensor token, Tensor? priority)
    {
        var fusedSource = full(Batch, 1, FusedSource, dtype: ScalarType.Int64, device: Sources.device);
        return new TokenState(cat(new[] { Tokens, token }, 1), cat(new[] { Sources, fusedSource }, 1), Priority is null ? null : cat(new[] { Priority, priority! }, 1));
    }

    /// <summary>Sequence positions [B, 1+k]: 0 (the class token), then 1 + each non-class index of <paramref name="kept"/> [B, k].</summary>
    public static Tensor WithClassToken(Tensor kept)
        => cat(new[] { zeros(kept.shape[0], 1, dtype: ScalarType.Int64, device: kept.device), kept + 1 }, 1);
}
