using Microsoft.ML.Runtime;
using Microsoft.ML.TokenIdle.Models.TokenMerging;
using Microsoft.ML.TokenIdle.Models.TokenReduction;

namespace Microsoft.ML.TokenIdle;

/// <summary>
/// ToMe ("Token Merging: Your ViT But Faster"): finetunes with r token pairs merged in every layer, by the recipe the
/// other trainers use (and, with the distillation weights, from the model it starts from):
/// <c>MulticlassClassification.Trainers.TokenMergingImageClassification</c>. Token merging needs no training: a
/// classifier of any trainer scores with it through <see cref="VisionTransformerClassifier.WithTokenReduction"/>.
/// </summary>
public sealed class TokenMergingImageClassificationTrainer : VisionTransformerTrainerBase
{
    internal TokenMergingImageClassificationTrainer(IHostEnvironment env, Options options)
        : base(env, options, nameof(TokenMergingImageClassificationTrainer))
    {
    }

    /// <summary>ToMe's settings: r per layer (or ToMe's schedule, or one r per layer) and proportional attention (off in training unless set).</summary>
    public sealed class Options : OptionsBase
    {
        /// <summary>The merge schedule and proportional attention; the trained classifier scores with them.</summary>
        public TokenMergingOptions TokenMerging { get; set; } = new();

        internal override IReductionMethodOptions Method => TokenMerging;
    }
}
