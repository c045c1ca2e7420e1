using Microsoft.ML.TokenIdle.Models.TokenReduction;
using Microsoft.ML.TokenIdle.Tensors;

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

    /// <summary>The loss (shape [1]) over the idle layers of a training-mode trace, with each layer's terms.</summary>
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
                CutLossVariant.Both => Ops.Add(layerInter, layerIntra),
                CutLossVariant.Inter => layerInter,
                CutLossVariant.Intra => layerIntra,
                _ => null,
            };
            if (term is not null)
            {
                var weighted = Ops.Scale(term, (float)(LayerWeights?[p] ?? 1.0));
                total = total is null ? weighted : Ops.Add(total, weighted);
            }
        }

        return new CutLossResult(total ?? Tensor.Zeros(1), inter, intra, layers.Count);
    }

    private static (Tensor Inter, Tensor Intra) Terms(TokenReductionRecord record)
    {
        var qkv = record.Qkv!;
        var mask = record.ActiveMask!;
        var (b, n, e) = (qkv.Size(0), qkv.Size(1), qkv.Size(2) / 3);
        var heads = record.Heads;

        // The head mean of q_h·k_hᵀ/√d is the full-width product q·kᵀ divided by H·√d.
        var logits = Ops.Scale(Ops.MatMul(Ops.Slice(qkv, 2, 0, e), Ops.Slice(qkv, 2, e, e), transposeB: true), 1f / (heads * MathF.Sqrt(e / heads)));
        var w = Ops.Softmax(logits);
        var (cross, within) = CutMatrices(mask, b, n);
        var interRows = Ops.Sum(Ops.Mul(w, cross), -1);
        var intraRows = Ops.Subtract(Ops.Sum(Ops.Mul(w, within), -1), mask);
        return (Ops.Mean(Ops.Mul(interRows, interRows)), Ops.Mean(Ops.Mul(intraRows, intraRows)));
    }

    /// <summary>D[b,a,c] = |m_a − m_c| with D[b,a,0] = 0, and S[b,a,c] = m_a·m_c.</summary>
    private static (Tensor Cross, Tensor Within) CutMatrices(Tensor mask, int b, int n)
    {
        var cross = Tensor.Zeros(b, n, n);
        var within = Tensor.Zeros(b, n, n);
        var m = mask.Data;
        for (var i = 0; i < b; i++)
        {
            for (var a = 0; a < n; a++)
            {
                var row = (i * n + a) * n;
                for (var c = 0; c < n; c++)
                {
                    var (ma, mc) = (m[i * n + a], m[i * n + c]);
                    cross.Data[row + c] = c == 0 ? 0f : MathF.Abs(ma - mc);
                    within.Data[row + c] = ma * mc;
                }
            }
        }

        return (cross, within);
    }
}
