using static TorchSharp.torch;

namespace Microsoft.ML.TokenIdle.Models.TokenReduction;

/// <summary>
/// The tokens between two blocks of a token-reducing forward pass: the token matrix, where each token came from,
/// and an optional per-token priority that a selector carries along (life regression's predicted lives).
/// Reductions produce new states; a state is never changed.
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
        if (tokens.dim() != 3 || sources.Length != tokens.shape[0] * tokens.shape[1])
        {
            throw new ArgumentException($"token state: tokens must be [B,N,E] with B·N sources, got {Serialization.Shapes.Format(tokens.shape)} and {sources.Length}");
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
    /// Per image and token (index b·N + i): the patch number p ≥ 0 (raster order) the token started as,
    /// <see cref="ClassSource"/> or <see cref="FusedSource"/>.
    /// </summary>
    public int[] Sources { get; }

    /// <summary>Per-token priority [B, N] carried with the tokens, or null.</summary>
    public Tensor? Priority { get; }

    /// <summary>Images in the batch.</summary>
    public int Batch => (int)Tokens.shape[0];

    /// <summary>Tokens per image, class token included.</summary>
    public int Count => (int)Tokens.shape[1];

    /// <summary>The state right after the embedding: class token, then every patch in raster order.</summary>
    public static TokenState FromEmbedding(Tensor tokens)
    {
        var (b, n) = ((int)tokens.shape[0], (int)tokens.shape[1]);
        var sources = new int[b * n];
        for (var i = 0; i < sources.Length; i++)
        {
            sources[i] = i % n == 0 ? ClassSource : i % n - 1;
        }

        return new TokenState(tokens, sources);
    }

    /// <summary>The same sources and priority with new token values of the same shape.</summary>
    public TokenState WithTokens(Tensor tokens) => new(tokens, Sources, Priority);

    /// <summary>The same tokens with a priority attached.</summary>
    public TokenState WithPriority(Tensor priority) => new(Tokens, Sources, priority);

    /// <summary>Keeps this state's tensors alive past the innermost dispose scope (a block's scope).</summary>
    public TokenState MoveToOuterDisposeScope()
    {
        Tokens.MoveToOuterDisposeScope();
        Priority?.MoveToOuterDisposeScope();
        return this;
    }

    /// <summary>
    /// The tokens at <paramref name="positions"/> (per image, <c>positions.Length / B</c> sequence positions), with
    /// their sources and priorities; token values flow through a differentiable gather.
    /// </summary>
    public TokenState Select(int[] positions)
    {
        var k = positions.Length / Batch;
        var sources = new int[positions.Length];
        for (var i = 0; i < positions.Length; i++)
        {
            sources[i] = Sources[i / k * Count + positions[i]];
        }

        var index = Index(positions, Batch, Tokens.device);
        return new TokenState(Tokens.gather(1, index.unsqueeze(-1).expand(-1, -1, Tokens.shape[2])), sources, Priority?.gather(1, index));
    }

    /// <summary>Appends one token per image ([B,1,E]) made by fusion, with the given priority ([B,1]) when this state carries priorities.</summary>
    public TokenState AppendFused(Tensor token, Tensor? priority)
    {
        var n = Count;
        var sources = new int[Batch * (n + 1)];
        for (var b = 0; b < Batch; b++)
        {
            Array.Copy(Sources, b * n, sources, b * (n + 1), n);
            sources[b * (n + 1) + n] = FusedSource;
        }

        return new TokenState(cat(new[] { Tokens, token }, 1), sources, Priority is null ? null : cat(new[] { Priority, priority! }, 1));
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

    /// <summary>Per-image indices [B, k] as a tensor on <paramref name="device"/>.</summary>
    public static Tensor Index(int[] indices, int batch, Device device)
        => tensor(indices.Select(i => (long)i).ToArray(), new long[] { batch, indices.Length / batch }, dtype: int64, device: device);
}
