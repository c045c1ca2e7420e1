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

    /// <summary>IdleViT's settings: the idling schedule and the loss weights (α = 5, β = 500, θ = 20, the paper's, from <see cref="IdleVitObjective"/>).</summary>
    public sealed class Options : OptionsBase
    {
        private static readonly IdleVitObjective Paper = new();

        /// <summary>Creates the options with IdleViT's objective: distillation from the starting model and the token cut loss.</summary>
        public Options()
        {
            (LogitDistillationWeight, FeatureDistillationWeight) = (Paper.LogitWeight, Paper.FeatureWeight);
        }

        /// <summary>
        /// The idle layers' keep ratios: base ratio k (<see cref="TokenReductionOptions.KeepRatio"/>, schedule k, k, k, k², k², k²,
        /// k³, k³ at layers 4..11 of 12), other layers, or an explicit ratio per layer.
        /// </summary>
        public TokenIdlingOptions TokenReduction { get; set; } = new();

        /// <summary>θ, weight of the token cut loss (the paper's 20; 2 did better in one-epoch finetunes, see docs/results-fashion-mnist.md).</summary>
        public double CutLossWeight { get; set; } = Paper.CutWeight;

        /// <summary>Which cut-loss terms.</summary>
        public CutLossVariant CutLoss { get; set; } = CutLossVariant.Both;

        internal override IReductionMethodOptions Method => TokenReduction;

        internal override IdleVitObjective Objective => base.Objective with { CutWeight = CutLossWeight, CutLoss = new Training.Losses.CutLoss { Variant = CutLoss } };

        internal override void Validate()
        {
            base.Validate();
            Require(CutLossWeight >= 0, $"CutLossWeight must not be negative, got {CutLossWeight}");
            Require(Enum.IsDefined(CutLoss), $"CutLoss {(int)CutLoss} is not one of {string.Join(", ", Enum.GetNames<CutLossVariant>())}");
        }
    }
}
