using Microsoft.ML.TokenIdle.Models.TokenReduction;
using static TorchSharp.torch;

namespace Microsoft.ML.TokenIdle.Training.Losses;

/// <summary>
/// IdleViT's token cut loss, a normalized-cut penalty on every idle layer's attention. With
/// W = softmax over keys of the head-mean scaled logits (no idle mask), m the active mask,
/// D[a,c] = |m_a − m_c| (0 in the class-token column) and S[a,c] = m_a·m_c:
/// inter = mean over rows of (Σ_c D·W)², intra = mean over rows of (Σ_c S·W − m_a)².
/// Layer p's inter + intra is weighted by <see cref="LayerWeights"/>[p] (default 1 each, the paper's
/// loss; 1, 0, 1, 0, … reproduces the reference code, whose loop skips every second idle layer).
/// </summary>
public sealed class CutLoss
{
    /// <summary>Which terms enter.</summary>
    public CutLossVariant Variant { get; init; } = CutLossVariant.Both;

    /// <summary>Weight of each idle layer in order; null for 1 each.</summary>
    public IReadOnlyList<double>? LayerWeights { get; init; }

    /// <summary>Weights 1, 0, 1, 0, … for <paramref name="idleLayers"/> layers, as the reference code sums them.</summary>
    public static IReadOnlyList<double> ReferenceLayerWeights(int idleLayers)
        => Enumerable.Range(0, idleLayers).Select(p => p % 2 == 0 ? 1.0 : 0.0).ToArray();

    /// <summary>The loss (a scalar) over the idle layers of a training-mode trace, with each layer's terms.</summary>
    /// <exception cref="ArgumentException">The trace has no training-mode idle layers, or the weights do not match their count.</exception>
    public CutLossResult Compute(TokenReductionTrace trace)
    {
        var layers = trace.Records.Where(r => r.Qkv is not null && r.ActiveMask is not null).ToList();
        if (layers.Count == 0)
        {
            throw new ArgumentException("cut loss: the trace holds no training-mode idle layer (run the model in training mode with token idling)");
        }

        if (LayerWeights is not null && LayerWeights.Count != layers.Count)
        {
            throw new ArgumentException($"cut loss: {LayerWeights.Count} layer weights for {layers.Count} idle layers");
        }

        var inter = new List<Tensor>();
        var intra = new List<Tensor>();
        Tensor? total = null;
        for (var p = 0; p < layers.Count; p++)
        {
            var (layerInter, layerIntra) = Terms(layers[p]);
            inter.Add(layerInter);
            intra.Add(layerIntra);
            Tensor? term = Variant switch
            {
                CutLossVariant.Both => layerInter + layerIntra,
                CutLossVariant.Inter => layerInter,
                CutLossVariant.Intra => layerIntra,
                _ => null,
            };
            if (term is not null)
            {
                var weighted = term * (LayerWeights?[p] ?? 1.0);
                total = total is null ? weighted : total + weighted;
            }
        }

        return new CutLossResult(total ?? zeros(Array.Empty<long>(), device: layers[0].Qkv!.device), inter, intra, layers.Count);
    }

    private static (Tensor Inter, Tensor Intra) Terms(TokenReductionRecord record)
    {
        // The loss is float32 whatever format the products ran in.
        var qkv = record.Qkv!.to_type(ScalarType.Float32);
        var mask = record.ActiveMask!;
        var (e, heads) = (qkv.shape[2] / 3, record.Heads);

        // The head mean of q_h·k_hᵀ/√d is the full-width product q·kᵀ divided by H·√d.
        var logits = qkv[.., .., ..(int)e].matmul(qkv[.., .., (int)e..(int)(2 * e)].transpose(1, 2)) / (heads * Math.Sqrt(e / (double)heads));
        var w = logits.softmax(-1);

        // D[b,a,c] = |m_a − m_c| with D[b,a,0] = 0, and S[b,a,c] = m_a·m_c.
        var notClass = ones(mask.shape[1], dtype: mask.dtype, device: mask.device).index_fill_(0, tensor(0L, device: mask.device), 0);
        var cross = (mask.unsqueeze(2) - mask.unsqueeze(1)).abs() * notClass;
        var within = mask.unsqueeze(2) * mask.unsqueeze(1);
        var interRows = (w * cross).sum(-1);
        var intraRows = (w * within).sum(-1) - mask;
        return (interRows.square().mean(), intraRows.square().mean());
    }
}
