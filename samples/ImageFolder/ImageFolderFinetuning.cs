using Microsoft.ML;
using Microsoft.ML.Runtime;
using Microsoft.ML.TokenIdle;

namespace Microsoft.ML.TokenIdle.Samples;

/// <summary>The ImageFolder sample's pipeline: folder → split → keys → images → trainer → evaluate → zip.</summary>
public static class ImageFolderFinetuning
{
    /// <summary>What to train on and how.</summary>
    public sealed record Settings(string Folder, string ConfigPath, string WeightsPath)
    {
        /// <summary>full, idle, evit or life.</summary>
        public string Method { get; init; } = "idle";

        /// <summary>Base keep ratio.</summary>
        public double KeepRate { get; init; } = 0.7;

        /// <summary>Epochs.</summary>
        public int Epochs { get; init; } = 3;

        /// <summary>Input size; null: the checkpoint's (another size resamples its position embedding).</summary>
        public int? ImageSize { get; init; }

        /// <summary>Images per step.</summary>
        public int BatchSize { get; init; } = 16;

        /// <summary>Where the model zip goes.</summary>
        public string Output { get; init; } = "model.zip";
    }

    /// <summary>Held-out quality of the finetuned model.</summary>
    public sealed record Result(double Accuracy, double MacroAccuracy, double LogLoss);

    /// <summary>Runs the sample; <paramref name="log"/> receives the trainer's progress.</summary>
    public static Result Run(Settings settings, Action<string> log)
    {
        var context = new MLContext(seed: 1);
        context.Log += (_, e) =>
        {
            if (e.Source.Contains("Trainer; Training", StringComparison.Ordinal) && e.Kind >= ChannelMessageKind.Info)
            {
                log(e.RawMessage);
            }
        };
        var split = context.Data.TrainTestSplit(context.Data.LoadImagesFromFolder(settings.Folder), testFraction: 0.2, seed: 1);
        VisionTransformerTrainerBase.OptionsBase options = settings.Method switch
        {
            "full" => new VisionTransformerTrainer.Options(),
            "idle" => new TokenIdleImageClassificationTrainer.Options { TokenReduction = { KeepRatio = settings.KeepRate } },
            "evit" => new TokenReorganizationImageClassificationTrainer.Options { TokenReduction = { KeepRatio = settings.KeepRate } },
            "life" => new LifeRegressionSlimmingTrainer.Options { TokenReduction = { KeepRatio = settings.KeepRate } },
            _ => throw new ArgumentException($"--method {settings.Method} is not one of full, idle, evit, life"),
        };
        options.Backbone = Backbone.Files(settings.ConfigPath, settings.WeightsPath);
        options.ImageSize = settings.ImageSize;
        options.MaxEpoch = settings.Epochs;
        options.BatchSize = settings.BatchSize;
        options.WarmupEpochs = Math.Min(1, settings.Epochs);
        options.HorizontalFlip = true;

        var trainers = context.MulticlassClassification.Trainers;
        IEstimator<VisionTransformerClassifier> trainer = options switch
        {
            TokenIdleImageClassificationTrainer.Options idle => trainers.TokenIdleImageClassification(idle),
            TokenReorganizationImageClassificationTrainer.Options evit => trainers.TokenReorganizationImageClassification(evit),
            LifeRegressionSlimmingTrainer.Options life => trainers.LifeRegressionSlimming(life),
            _ => trainers.VisionTransformer((VisionTransformerTrainer.Options)options),
        };
        var pipeline = context.Transforms.Conversion.MapValueToKey("Label")
            .Append(context.Transforms.LoadImages("Image", imageFolder: null, "ImagePath"))
            .Append(trainer)
            .Append(context.Transforms.Conversion.MapKeyToValue("PredictedName", "PredictedLabel"));
        var model = pipeline.Fit(split.TrainSet);
        var metrics = context.MulticlassClassification.Evaluate(model.Transform(split.TestSet));
        context.Model.Save(model, split.TrainSet.Schema, settings.Output);
        return new Result(metrics.MicroAccuracy, metrics.MacroAccuracy, metrics.LogLoss);
    }
}
