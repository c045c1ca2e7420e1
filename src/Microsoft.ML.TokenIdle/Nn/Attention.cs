using TorchSharp.Modules;
using TorchSharp.Utils;
using static TorchSharp.torch;

namespace Microsoft.ML.TokenIdle.Nn;

/// <summary>
/// timm's multi-head self-attention: <c>qkv</c> (E → 3E; columns: queries, keys, values, head j in columns
/// j·d…) and <c>proj</c> (E → E), computed with libtorch's <c>scaled_dot_product_attention</c>.
/// </summary>
public sealed class Attention : nn.Module<Tensor, Tensor>
{
    /// <summary>Creates the layer, initialised from <paramref name="generator"/> (null: left as TorchSharp made it, for weights about to be loaded).</summary>
    public Attention(int dim, int heads, bool qkvBias, Generator? generator)
        : base(nameof(Attention))
    {
        if (heads < 1 || dim % heads != 0)
        {
            throw new ArgumentException($"embedding width {dim} is not divisible by {heads} heads");
        }

        Heads = heads;
        Qkv = nn.Linear(dim, 3 * dim, hasBias: qkvBias, device: CPU, dtype: ScalarType.Float32);
        Proj = nn.Linear(dim, dim, device: CPU, dtype: ScalarType.Float32);
        TimmInit.Linear(Qkv, generator);
        TimmInit.Linear(Proj, generator);
        RegisterComponents();
    }

    /// <summary>Number of heads.</summary>
    public int Heads { get; }

    /// <summary>The packed query/key/value projection.</summary>
    [field: ComponentName(Name = "qkv")]
    public Linear Qkv { get; }

    /// <summary>The output projection.</summary>
    [field: ComponentName(Name = "proj")]
    public Linear Proj { get; }

    /// <summary>Attention over h [B,N,E].</summary>
    public override Tensor forward(Tensor h) => FromQkv(QueryKeyValue(h));

    /// <summary>Queries, keys and values [B,N,3E] of h [B,N,E].</summary>
    public Tensor QueryKeyValue(Tensor h) => MixedPrecision.Linear(Qkv, h);

    /// <summary>
    /// The projected attention output [B,N,E] from queries, keys and values [B,N,3E] (e.g. gathered rows of
    /// them); <paramref name="keyMask"/> [B,N] is added to every query's logits (a large negative value hides a key).
    /// </summary>
    public Tensor FromQkv(Tensor qkv, Tensor? keyMask = null)
    {
        var (b, n, e) = (qkv.shape[0], qkv.shape[1], qkv.shape[2] / 3);
        var parts = qkv.reshape(b, n, 3, Heads, e / Heads).permute(2, 0, 3, 1, 4);
        var mask = keyMask?.reshape(b, 1, 1, n).to(qkv.dtype);
        var output = nn.functional.scaled_dot_product_attention(parts[0], parts[1], parts[2], mask);
        return MixedPrecision.Linear(Proj, output.transpose(1, 2).reshape(b, n, e));
    }
}
