using System.Globalization;
using Microsoft.ML.TokenIdle.Models.TokenReduction;
using static TorchSharp.torch;

namespace Microsoft.ML.TokenIdle.Models;

/// <summary>
/// The memory a batch of a model and method needs beyond what the process already holds, estimated before it runs,
/// so that a run that cannot fit is refused in one line within seconds instead of being killed by the kernel minutes
/// later. Scoring frees each block's temporaries as the block ends, so it needs one block's worth at the widest
/// layer; training keeps every layer's activations for the backward pass, and the methods that train with masks over
/// all tokens (IdleViT's idle layers, life regression's soft lifetimes) hold their attention weights, [B, heads, N, N]
/// per layer, and IdleViT's cut loss its token-token matrices, [B, N, N] per masked layer. The coefficients (how many
/// tensors of each shape a layer keeps) were measured against peak resident memory on this library's own forward and
/// training step (docs/reliability.md, Memory, with the command and its error).
/// </summary>
public sealed record MemoryEstimate
{
    // Per image, at the widest layer: tensors of tokens × width a scoring forward holds at its peak (one block's temporaries, the tokens, libtorch's work space).
    private const double ScoringTokenWidths = 47;

    // Per image and trained layer: tensors of tokens × width kept for the backward pass (activations and their gradients).
    private const double TrainingTokenWidths = 20.5;

    // Per image and key-masked trained layer: tensors of tokens × width beyond an unmasked layer's (the mask's
    // broadcasts and the attention's unfused intermediates), and of heads × tokens² (the materialised attention weights).
    private const double MaskedTokenWidths = 10;
    private const double MaskedAttentionMaps = 1.3;

    // Per image and masked layer under IdleViT's cut loss: tensors of tokens² (logits, weights, the two masks, their products).
    private const double CutLossMaps = 5;

    // Per parameter in training: weights, gradients and AdamW's two moments (float32 whatever the precision).
    private const int TrainingCopiesPerParameter = 4;

    // What any run adds beyond libtorch's own load whatever its size: compiled code, allocator arenas, thread stacks.
    private const double RunOverheadBytes = 64 << 20;

    /// <summary>The estimate in bytes.</summary>
    public required long Bytes { get; init; }

    /// <summary>Tokens per image at the input: (image size / patch size)² + 1.</summary>
    public required int Tokens { get; init; }

    /// <summary>The input size in pixels.</summary>
    public required int ImageSize { get; init; }

    /// <summary>The patch size in pixels.</summary>
    public required int PatchSize { get; init; }

    /// <summary>Images per batch.</summary>
    public required int BatchSize { get; init; }

    /// <summary>Whether the estimate is for a training step (else a scoring forward).</summary>
    public required bool Training { get; init; }

    /// <summary>The element type activations are computed in (float32, bfloat16 or float16).</summary>
    public required ScalarType ComputeType { get; init; }

    /// <summary>The estimate for scoring batches of <paramref name="batchSize"/> images with <paramref name="method"/> (null: the full model).</summary>
    public static MemoryEstimate ForScoring(VisionTransformerConfig config, IReducedForward? method, int batchSize, ScalarType computeType)
    {
        var widest = method?.Plan(config).Max(c => c.TokensIn) ?? config.NumPatches + 1;
        var activations = batchSize * ScoringTokenWidths * widest * config.EmbedDim * ElementSize(computeType);
        return Create(config, batchSize, training: false, computeType, activations + RunOverheadBytes);
    }

    /// <summary>
    /// The estimate for a training step on batches of <paramref name="batchSize"/> images with
    /// <paramref name="method"/> (null: the full model); <paramref name="teacher"/>: a frozen copy of the model runs
    /// beside it (distillation); <paramref name="cutLoss"/>: IdleViT's cut loss at the idle layers. Mixed-precision
    /// bfloat16 training is estimated as float32: its weights, optimiser state and much of what it keeps stay float32.
    /// </summary>
    public static MemoryEstimate ForTraining(VisionTransformerConfig config, IReducedForward? method, int batchSize, bool teacher, bool cutLoss)
    {
        var plan = method?.TrainingPlan(config)
            ?? Enumerable.Repeat(new TrainingLayerTokens(LayerTokenCounts.Plain(config.NumPatches + 1), false), config.Depth).ToList();
        double perImage = 0;
        foreach (var (counts, masked) in plan)
        {
            // Attention runs at the layer's attention tokens and the MLP at its MLP tokens (a masked layer: all of its tokens).
            perImage += TrainingTokenWidths * config.EmbedDim * (counts.AttentionTokens + counts.MlpTokens) / 2.0;
            if (masked)
            {
                double square = (double)counts.TokensIn * counts.TokensIn;
                perImage += MaskedTokenWidths * config.EmbedDim * counts.TokensIn + MaskedAttentionMaps * config.NumHeads * square + (cutLoss ? CutLossMaps * square : 0);
            }
        }

        // The teacher scores the batch inside the same step (one block's temporaries at a time, as scoring does).
        if (teacher)
        {
            perImage += ScoringTokenWidths * (config.NumPatches + 1) * config.EmbedDim;
        }

        var parameters = (double)config.ParameterCount() * sizeof(float) * (TrainingCopiesPerParameter + (teacher ? 1 : 0));
        return Create(config, batchSize, training: true, ScalarType.Float32, batchSize * perImage * sizeof(float) + parameters + RunOverheadBytes);
    }

    /// <summary>
    /// Refuses in one line when the estimate exceeds <paramref name="availableBytes"/> (null: unknown, not checked),
    /// naming the tokens, the estimate, what is available and <paramref name="knobs"/> (the settings that lower it).
    /// </summary>
    /// <exception cref="InsufficientMemoryException">The estimate exceeds what is available.</exception>
    public void EnsureFits(long? availableBytes, string knobs)
    {
        if (availableBytes is { } available && Bytes > available)
        {
            throw new InsufficientMemoryException(string.Create(CultureInfo.InvariantCulture,
                $"{(Training ? "training" : "scoring")} needs about {Gigabytes(Bytes)} GB ({this}) and {Gigabytes(available)} GB are available: lower {knobs}"));
        }
    }

    /// <summary>The estimate's inputs in words, e.g. <c>3,137 tokens per image at 224 px in 4-px patches, batch 16, float32</c>.</summary>
    public override string ToString() => string.Create(CultureInfo.InvariantCulture,
        $"{Tokens:N0} tokens per image at {ImageSize} px in {PatchSize}-px patches, batch {BatchSize}, {ComputeType.ToString().ToLowerInvariant()}");

    /// <summary>Bytes in gigabytes (10⁹) with one decimal, as the refusal prints them.</summary>
    public static string Gigabytes(long bytes) => (bytes / 1e9).ToString("0.0", CultureInfo.InvariantCulture);

    private static MemoryEstimate Create(VisionTransformerConfig config, int batchSize, bool training, ScalarType computeType, double bytes) => new()
    {
        Bytes = (long)Math.Min(bytes, long.MaxValue / 2),
        Tokens = config.NumPatches + 1,
        ImageSize = config.ImageSize,
        PatchSize = config.PatchSize,
        BatchSize = batchSize,
        Training = training,
        ComputeType = computeType,
    };

    private static int ElementSize(ScalarType type) => type is ScalarType.BFloat16 or ScalarType.Float16 ? 2 : 4;
}
