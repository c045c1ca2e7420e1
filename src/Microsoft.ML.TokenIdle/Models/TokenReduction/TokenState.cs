using Microsoft.ML.TokenIdle.Tensors;

namespace Microsoft.ML.TokenIdle.Models.TokenReduction;

/// <summary>
/// The tokens between two blocks of a token-reducing forward pass: the token matrix, where each
/// token came from, and an optional per-token priority that a selector carries along (life
/// regression's predicted lives). Reductions produce new states; a state is never changed.
/// </summary>
public sealed class TokenState
{
    /// <summary><see cref="Sources"/> value of the class token.</summary>
    public const int ClassSource = -2;

    /// <summary><see cref="Sources"/> value of a token made by fusing others.</summary>
    public const int FusedSource = -1;

    /// <summary>Creates a state; <paramref name="sources"/> has one entry per token of every image.</summary>
    public TokenState(Tensor tokens, int[] sources, Tensor? priority = null)
    {
        if (tokens.Rank != 3 || sources.Length != tokens.Size(0) * tokens.Size(1))
        {
            throw new ArgumentException($"token state: tokens must be [B,N,E] with B·N sources, got {ShapeUtil.Format(tokens.Shape)} and {sources.Length}");
        }

        if (priority is not null && (priority.Rank != 2 || priority.Size(0) != tokens.Size(0) || priority.Size(1) != tokens.Size(1)))
        {
            throw new ArgumentException($"token state: priority must be [{tokens.Size(0)},{tokens.Size(1)}], got {ShapeUtil.Format(priority.Shape)}");
        }

        Tokens = tokens;
        Sources = sources;
        Priority = priority;
    }

    /// <summary>[B, N, E], class token first.</summary>
    public Tensor Tokens { get; }

    /// <summary>
    /// Per image and token (index b·N + i): the patch number p ≥ 0 (raster order) the token started
    /// as, <see cref="ClassSource"/> or <see cref="FusedSource"/>.
    /// </summary>
    public int[] Sources { get; }

    /// <summary>Per-token priority [B, N] carried with the tokens, or null.</summary>
    public Tensor? Priority { get; }

    /// <summary>Images in the batch.</summary>
    public int Batch => Tokens.Size(0);

    /// <summary>Tokens per image, class token included.</summary>
    public int Count => Tokens.Size(1);

    /// <summary>The state right after the embedding: class token, then every patch in raster order.</summary>
    public static TokenState FromEmbedding(Tensor tokens)
    {
        var (b, n) = (tokens.Size(0), tokens.Size(1));
        var sources = new int[b * n];
        for (var i = 0; i < sources.Length; i++)
        {
            sources[i] = i % n - 1;
        }

        for (var i = 0; i < b; i++)
        {
            sources[i * n] = ClassSource;
        }

        return new TokenState(tokens, sources);
    }

    /// <summary>The same sources and priority with new token values of the same shape.</summary>
    public TokenState WithTokens(Tensor tokens) => new(tokens, Sources, Priority);

    /// <summary>The same tokens with a priority attached.</summary>
    public TokenState WithPriority(Tensor priority) => new(Tokens, Sources, priority);

    /// <summary>
    /// The tokens at <paramref name="positions"/> (per image, <c>positions.Length / B</c> sequence
    /// positions), with their sources and priorities; token values flow through a differentiable gather.
    /// </summary>
    public TokenState Select(int[] positions)
    {
        var k = positions.Length / Batch;
        var sources = new int[positions.Length];
        for (var i = 0; i < positions.Length; i++)
        {
            sources[i] = Sources[i / k * Count + positions[i]];
        }

        return new TokenState(Ops.Gather(Tokens, 1, positions), sources, Priority is null ? null : Ops.Gather(Priority, 1, positions));
    }

    /// <summary>
    /// Appends one token per image ([B,1,E]) made by fusion, with the given priority ([B,1]) when
    /// this state carries priorities.
    /// </summary>
    public TokenState AppendFused(Tensor token, Tensor? priority)
    {
        var n = Count;
        var sources = new int[Batch * (n + 1)];
        for (var b = 0; b < Batch; b++)
        {
            Array.Copy(Sources, b * n, sources, b * (n + 1), n);
            sources[b * (n + 1) + n] = FusedSource;
        }

        return new TokenState(Ops.Concat(1, Tokens, token), sources, Priority is null ? null : Ops.Concat(1, Priority, priority!));
    }

    /// <summary>Sequence positions [B·(1+k)]: 0 (the class token), then 1 + each non-class index in <paramref name="kept"/> [B·k].</summary>
    public static int[] WithClassToken(int[] kept, int batch)
    {
        var k = kept.Length / batch;
        var positions = new int[batch * (k + 1)];
        for (var b = 0; b < batch; b++)
        {
            for (var j = 0; j < k; j++)
            {
                positions[b * (k + 1) + 1 + j] = 1 + kept[b * k + j];
            }
        }

        return positions;
    }
}
