using Microsoft.ML.Runtime;
using Microsoft.ML.TokenIdle.Models;
using Microsoft.ML.TokenIdle.Models.TokenReduction;
using Microsoft.ML.TokenIdle.Training;
using Microsoft.ML.TokenIdle.Training.Data;
using Microsoft.ML.TokenIdle.Training.Losses;

namespace Microsoft.ML.TokenIdle;

/// <summary>
/// Life-regression patch slimming: a predictor trained first with the backbone frozen, then the backbone with
/// the predictor frozen: <c>MulticlassClassification.Trainers.LifeRegressionSlimming</c>.
/// </summary>
public sealed class LifeRegressionSlimmingTrainer : VisionTransformerTrainerBase
{
    private readonly Options _options;

    internal LifeRegressionSlimmingTrainer(IHostEnvironment env, Options options)
        : base(env, options, nameof(LifeRegressionSlimmingTrainer)) => _options = options;

    /// <summary>Life regression's settings: the slimming schedule, the predictor and its stage.</summary>
    public sealed class Options : OptionsBase
    {
        /// <summary>Keep ratio k at each slimming layer (4, 7, 10 of 12) or another schedule, the predictor's layer and steepness.</summary>
        public LifeRegressionOptions TokenReduction { get; set; } = new();

        /// <summary>Epochs of stage 1 (predictor only).</summary>
        public int PredictorEpochs { get; set; } = 1;

        /// <summary>Learning rate of stage 1.</summary>
        public double PredictorLearningRate { get; set; } = 1e-3;

        internal override TokenReductionOptions Method => TokenReduction;

        internal override string MethodName => TokenReductionMethods.Names[(int)TokenReductionMethod.Life];
    }

    private protected override TrainerOptions BeforeTraining(VisionTransformer model, TokenReductionStrategy? strategy, TrainerOptions recipe, ImageSource train, IProgress<TrainingProgress> progress, IChannel channel)
    {
        var stage1 = recipe with
        {
            EarlyStopping = null,
            Epochs = _options.PredictorEpochs, LearningRate = _options.PredictorLearningRate, WeightDecay = 0, WarmupEpochs = 0, CheckpointDirectory = null,
            Stage = TrainingStage.PredictorOnly, Objective = IdleVitObjective.CrossEntropyOnly,
        };
        channel.Info($"life regression stage 1: training the predictor for {_options.PredictorEpochs} epoch(s)");
        using (var predictorStage = new Trainer(model, strategy, stage1))
        {
            predictorStage.Fit(train, null, progress);
        }

        channel.Info($"life regression stage 2: training the backbone for {recipe.Epochs} epoch(s)");
        return recipe with { Stage = TrainingStage.BackboneOnly };
    }
}
