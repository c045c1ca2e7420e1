using Microsoft.ML.Runtime;
using Microsoft.ML.TokenIdle.Models.TokenReduction;
using Microsoft.ML.TokenIdle.Training;

namespace Microsoft.ML.TokenIdle;

/// <summary>
/// Life-regression patch slimming: a predictor trained first with the backbone frozen, then the backbone with
/// the predictor frozen: <c>MulticlassClassification.Trainers.LifeRegressionSlimming</c>.
/// </summary>
public sealed class LifeRegressionSlimmingTrainer : VisionTransformerTrainerBase
{
    internal LifeRegressionSlimmingTrainer(IHostEnvironment env, Options options)
        : base(env, options, nameof(LifeRegressionSlimmingTrainer))
    {
    }

    /// <summary>Life regression's settings: the slimming schedule, the predictor and its stages.</summary>
    public sealed class Options : OptionsBase
    {
        /// <summary>Keep ratio k at each slimming layer (4, 7, 10 of 12) or another schedule, the predictor's layer and steepness.</summary>
        public LifeRegressionOptions TokenReduction { get; set; } = new();

        /// <summary>Epochs of stage 1 (predictor only, backbone frozen).</summary>
        public int PredictorEpochs { get; set; } = 1;

        /// <summary>Learning rate of stage 1 (no weight decay, no warm-up).</summary>
        public double PredictorLearningRate { get; set; } = 1e-3;

        /// <summary>
        /// One stage alone instead of the paper's two: <see cref="TrainingStage.PredictorOnly"/> or
        /// <see cref="TrainingStage.BackboneOnly"/> (each with this recipe: <see cref="VisionTransformerTrainerBase.OptionsBase.MaxEpoch"/> epochs at
        /// <see cref="VisionTransformerTrainerBase.OptionsBase.LearningRate"/>), or <see cref="TrainingStage.All"/> (both together); null: stage 1 for
        /// <see cref="PredictorEpochs"/> epochs at <see cref="PredictorLearningRate"/>, then stage 2 with this recipe.
        /// </summary>
        public TrainingStage? Stage { get; set; }

        internal override IReductionMethodOptions Method => TokenReduction;

        internal override void Validate()
        {
            base.Validate();
            Require(PredictorEpochs >= 1, $"PredictorEpochs must be at least 1, got {PredictorEpochs}");
            Require(PredictorLearningRate > 0 && double.IsFinite(PredictorLearningRate), $"PredictorLearningRate must be positive, got {PredictorLearningRate}");
            Require(Stage is null || Enum.IsDefined(Stage.Value), $"Stage {(int?)Stage} is not one of {string.Join(", ", Enum.GetNames<TrainingStage>())}");
        }
    }
}
