using Microsoft.ML.Data;
using Microsoft.ML.TokenIdle.Models;
using Microsoft.ML.TokenIdle.Models.TokenReduction;
using Microsoft.ML.TokenIdle.Nn;
using TorchSharp;
using static TorchSharp.torch;

namespace Microsoft.ML.TokenIdle.Tests;

/// <summary>
/// The error model behind <see cref="NumericBounds"/>: the same network run in float64 on the exact inputs. Each float32
/// computation of it (a pipeline, a runtime, a batch or a row) differs from this by its own rounding only, whatever the
/// CPU's kernels.
/// </summary>
internal static class Float64Reference
{
    /// <summary>Softmax probabilities [B][classes] of <paramref name="model"/>'s weights (with <paramref name="strategy"/>) on <paramref name="inputs"/> [B, C·S·S], in float64.</summary>
    public static double[][] Probabilities(VisionTransformer model, IReducedForward? strategy, IReadOnlyList<double[]> inputs)
    {
        using var logits = Logits(model, strategy, inputs);
        using var p = logits.softmax(-1);
        return Enumerable.Range(0, inputs.Count).Select(b => p[b].data<double>().ToArray()).ToArray();
    }

    /// <summary>Logits [B, classes] (a float64 CPU tensor) of <paramref name="model"/>'s weights (with <paramref name="strategy"/>) on <paramref name="inputs"/> [B, C·S·S], in float64.</summary>
    public static Tensor Logits(VisionTransformer model, IReducedForward? strategy, IReadOnlyList<double[]> inputs)
    {
        using var scope = NewDisposeScope();
        using var copy = new VisionTransformer(model.Config);
        copy.LoadStateDict(model.NamedParameters().ToDictionary(kv => kv.Key, kv => kv.Value.detach().to_type(ScalarType.Float32).cpu()));
        copy.to(ScalarType.Float64);
        copy.eval();
        var c = model.Config;
        var batch = tensor(inputs.SelectMany(i => i).ToArray(), new long[] { inputs.Count, c.InChannels, c.ImageSize, c.ImageSize }, ScalarType.Float64);
        using var _ = no_grad();
        var logits = strategy is null ? copy.forward(batch) : InFloat64(strategy, c).Forward(copy, batch);
        return logits.MoveToOuterDisposeScope();
    }

    // The strategy with its own weights (life regression's predictor) copied into float64; the others have none.
    private static IReducedForward InFloat64(IReducedForward strategy, VisionTransformerConfig config)
    {
        if (strategy is not TokenReductionStrategy { Selector: LifeRegressionSelector life } pairing)
        {
            return strategy;
        }

        var predictor = new LifePredictor(config.EmbedDim, config.LayerNormEps);
        predictor.LoadStateDict(life.Predictor.NamedParameters().ToDictionary(kv => kv.Key, kv => kv.Value.detach().to_type(ScalarType.Float32).cpu()));
        predictor.to(ScalarType.Float64);
        predictor.eval();
        return new TokenReductionStrategy(new LifeRegressionSelector(predictor, life.PredictorLayer, life.Statistics, life.Steepness), pairing.Reduction, pairing.Schedule);
    }

    /// <summary>The config's per-channel mean and std (timm's ImageNet values where it records none) in float64.</summary>
    public static (double[] Mean, double[] Std) Normalization(VisionTransformerConfig config)
    {
        var (mean, std) = config.InputNormalization();
        return (config.Mean ?? mean.Select(m => (double)m).ToArray(), config.Std ?? std.Select(s => (double)s).ToArray());
    }

    /// <summary>The rows of a float input batch [B, C, S, S] as float64 inputs (float32 values are exact in float64).</summary>
    public static List<double[]> Rows(Tensor batch)
        => Enumerable.Range(0, (int)batch.shape[0]).Select(b => batch[b].flatten().to_type(ScalarType.Float64).data<double>().ToArray()).ToList();

    /// <summary>The largest |actual − reference| of a float logits tensor against float64 logits, and the bound for it (<see cref="NumericBounds.Logit"/>).</summary>
    public static (double Error, double Bound) LogitError(Tensor actual, Tensor reference)
        => ((actual.to_type(ScalarType.Float64).cpu() - reference).abs().max().item<double>(), NumericBounds.Logit(reference.abs().max().item<double>()));

    /// <summary>
    /// The exact model inputs of image files: decoded and brought to the model's size and channels as the classifier does
    /// (an integer result), then normalised with the config's mean and std in float64.
    /// </summary>
    public static List<double[]> ExactInputs(VisionTransformerConfig config, IEnumerable<string> paths)
    {
        var (mean, std) = Normalization(config);
        var plane = config.ImageSize * config.ImageSize;
        return paths.Select(path =>
        {
            using var image = MLImage.CreateFromFile(path);
            var bytes = config.InputFormat.ToPlanar(image);
            return bytes.Select((b, i) => (b / 255.0 - mean[i / plane]) / std[i / plane]).ToArray();
        }).ToList();
    }

}
