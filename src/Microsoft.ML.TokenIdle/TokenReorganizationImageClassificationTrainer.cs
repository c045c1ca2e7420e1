using Microsoft.ML.Runtime;
using Microsoft.ML.TokenIdle.Models.TokenReduction;

namespace Microsoft.ML.TokenIdle;

/// <summary>
/// EViT ("Not All Patches are What You Need"): inattentive tokens dropped at a few layers, and optionally
/// fused into one: <c>MulticlassClassification.Trainers.TokenReorganizationImageClassification</c>.
/// </summary>
public sealed class TokenReorganizationImageClassificationTrainer : VisionTransformerTrainerBase
{
    internal TokenReorganizationImageClassificationTrainer(IHostEnvironment env, Options options)
        : base(env, options, nameof(TokenReorganizationImageClassificationTrainer))
    {
    }

    /// <summary>EViT's settings.</summary>
    public sealed class Options : OptionsBase
    {
        /// <summary>Keep rate k at each reduction layer (3, 6, 9 of 12), or other layers or an explicit schedule, and whether to fuse.</summary>
        public TokenReorganizationOptions TokenReduction { get; set; } = new();

        internal override IReductionMethodOptions Method => TokenReduction;
    }
}
