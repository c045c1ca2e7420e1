using Microsoft.ML.Runtime;
using Microsoft.ML.TokenIdle.Models.TokenReduction;
using Microsoft.ML.TokenIdle.Training.Losses;

namespace Microsoft.ML.TokenIdle;

/// <summary>
/// IdleViT ("No Token Left Behind"): token idling at keep ratio k with the token cut loss and distillation
/// from the model it starts from (the frozen full model as teacher):
/// <c>MulticlassClassification.Trainers.TokenIdleImageClassification</c>.
/// </summary>
public sealed class TokenIdleImageClassificationTrainer : VisionTransformerTrainerBase
{
    internal TokenIdleImageClassificationTrainer(IHostEnvironment env, Options options)
        : base(env, options, nameof(TokenIdleImageClassificationTrainer))
    {
    }

    /// <summary>IdleViT's settings: the idling schedule and the loss weights.</summary>
    public sealed class Options : OptionsBase
    {
        /// <summary>
        /// The idle layers' keep ratios: base ratio k (<see cref="TokenReductionOptions.KeepRate"/>, schedule k, k, k, k², k², k²,
        /// k³, k³ at layers 4..11 of 12), other layers, or an explicit ratio per layer.
        /// </summary>
        public TokenIdlingOptions TokenReduction { get; set; } = new();

        /// <summary>θ, weight of the token cut loss (the paper's 20; 2 did better in one-epoch finetunes, see docs/results-fashion-mnist.md).</summary>
        public double CutLossWeight { get; set; } = 20;

        /// <summary>α, weight of the logit distillation.</summary>
        public double LogitDistillationWeight { get; set; } = 5;

        /// <summary>β, weight of the feature distillation.</summary>
        public double FeatureDistillationWeight { get; set; } = 500;

        /// <summary>Which cut-loss terms.</summary>
        public CutLossVariant CutLoss { get; set; } = CutLossVariant.Both;

        internal override TokenReductionOptions Method => TokenReduction;

        internal override string MethodName => TokenReductionMethods.Names[(int)TokenReductionMethod.Idle];

        internal override IdleVitObjective Objective => new()
        {
            LogitWeight = LogitDistillationWeight, FeatureWeight = FeatureDistillationWeight, CutWeight = CutLossWeight, CutLoss = new Training.Losses.CutLoss { Variant = CutLoss },
        };
    }
}
