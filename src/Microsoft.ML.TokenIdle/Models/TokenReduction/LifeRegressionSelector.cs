using Microsoft.ML.TokenIdle.Nn;
using static TorchSharp.torch;

namespace Microsoft.ML.TokenIdle.Models.TokenReduction;

/// <summary>
/// Life regression's selector: the <see cref="LifePredictor"/> runs once on the output of
/// <see cref="PredictorLayer"/> and gives every patch a life τ; later layers keep the patches with
/// the longest lives. In training no token is removed: key t of layer l is weighted by
/// β_t(l) = σ(U·(τ_t − l)) inside the softmax (log β added to the logits), so gradients reach the
/// predictor.
/// </summary>
public sealed class LifeRegressionSelector : ITokenSelector, IOnnxTokenSelector
{
    /// <summary>Creates the selector.</summary>
    public LifeRegressionSelector(LifePredictor predictor, int predictorLayer, LifeStatistics statistics, double steepness = 1.5)
    {
        if (!(steepness > 0))
        {
            throw new ArgumentOutOfRangeException(nameof(steepness), $"life regression: the steepness U must be positive, got {steepness}");
        }

        Predictor = predictor;
        PredictorLayer = predictorLayer;
        Statistics = statistics;
        Steepness = steepness;
    }

    /// <inheritdoc/>
    public string Name => "life-regression";

    /// <summary>The predictor (its parameters are trained in stage 1).</summary>
    public LifePredictor Predictor { get; }

    /// <summary>The layer whose output the predictor reads (t_base).</summary>
    public int PredictorLayer { get; }

    /// <summary>μ, σ and T.</summary>
    public LifeStatistics Statistics { get; }

    /// <summary>U, the steepness of the training weights.</summary>
    public double Steepness { get; }

    /// <inheritdoc/>
    public TokenState Prepare(int layer, TokenState state)
    {
        if (layer != PredictorLayer + 1)
        {
            return state;
        }

        var lives = Predictor.Lives(state.Tokens, Statistics);
        var classLife = full(state.Batch, 1, (double)Statistics.FinalLayer, dtype: lives.dtype, device: lives.device);
        return state.WithPriority(cat(new[] { classLife, lives }, 1));
    }

    /// <inheritdoc/>
    public Tensor Score(int layer, TokenState state, Tensor normed, Attention attention)
    {
        var lives = state.Priority ?? throw new InvalidOperationException($"life regression cannot select tokens at layer {layer}: its predictor reads the output of layer {PredictorLayer}, so selection starts at layer {PredictorLayer + 1}");
        return lives[.., 1..];
    }

    /// <inheritdoc/>
    OnnxTokens IOnnxTokenSelector.WritePrepare(IOnnxNetworkWriter writer, int layer, OnnxTokens tokens)
    {
        if (layer != PredictorLayer + 1)
        {
            return tokens;
        }

        // The predictor's bilinear class/patch score, standardised to the schedule's mean and spread; the class token's life is T.
        var g = writer.Graph;
        var normed = writer.LayerNorm(tokens.X, Predictor.Norm, "life_predictor.norm.");
        var classVector = writer.Linear(g.Op("Gather", new[] { normed, g.Int64(0) }, Serialization.OnnxGraph.Int("axis", 1)), Predictor.Bilinear, "life_predictor.bilinear.", quantizable: false);
        var patches = writer.Patches(normed, tokens.Count);
        var scores = g.Op("Squeeze", new[] { g.Op("MatMul", new[] { patches, g.Op("Unsqueeze", new[] { classVector, g.Int64s(-1) }) }), g.Int64s(-1) });
        var centred = g.Op("Sub", new[] { scores, writer.ReduceMean(scores, -1, keep: true) });
        var std = g.Op("Sqrt", new[] { g.Op("Add", new[] { writer.ReduceMean(g.Op("Mul", new[] { centred, centred }), -1, keep: true), g.Float(1e-6f) }) });
        var lives = g.Op("Add", new[] { g.Op("Mul", new[] { g.Op("Div", new[] { centred, std }), g.Float((float)Statistics.StdDev) }), g.Float((float)Statistics.Mean) });
        var classLife = g.Op("Add", new[] { g.Op("Mul", new[] { g.Op("Slice", new[] { lives, g.Int64s(0), g.Int64s(1), g.Int64s(1) }), g.Float(0) }), g.Float(Statistics.FinalLayer) });
        return tokens with { Priority = g.Op("Concat", new[] { classLife, lives }, Serialization.OnnxGraph.Int("axis", 1)) };
    }

    /// <inheritdoc/>
    string IOnnxTokenSelector.WriteScores(IOnnxNetworkWriter writer, int layer, OnnxTokens tokens, string normed, Attention attention, string prefix)
        => writer.Patches(tokens.Priority ?? throw new ArgumentException($"ONNX export: life regression cannot select tokens at layer {layer}: its predictor reads the output of layer {PredictorLayer}, so selection starts at layer {PredictorLayer + 1}"), tokens.Count);

    /// <inheritdoc/>
    public Tensor? SoftKeyWeights(int layer, TokenState state)
    {
        if (layer <= PredictorLayer || state.Priority is not { } lives)
        {
            return null;
        }

        var weights = nn.functional.logsigmoid((lives[.., 1..] - layer) * Steepness);
        return cat(new[] { zeros(state.Batch, 1, dtype: weights.dtype, device: weights.device), weights }, 1);
    }

    /// <inheritdoc/>
    public bool WeightsKeysInTraining(int layer) => layer > PredictorLayer;

    /// <inheritdoc/>
    public long SelectionMacs(int layer, int tokens, bool reducing, VisionTransformerConfig config)
        => layer == PredictorLayer + 1 ? (long)config.EmbedDim * config.EmbedDim + (long)(tokens - 1) * config.EmbedDim : 0;
}
