using System.CommandLine;
using System.Globalization;
using System.Text.RegularExpressions;
using Microsoft.ML.TokenIdle;
using Microsoft.ML.TokenIdle.Training;
using Microsoft.ML.TokenIdle.Training.Losses;
using OptionsBase = Microsoft.ML.TokenIdle.VisionTransformerTrainerBase.OptionsBase;

namespace TokenIdle.Cli.Commands;

/// <summary>
/// <c>tokenidle train</c>'s flags for the training recipe: one flag per property of the trainers' <c>Options</c>
/// (<see cref="OptionsBase"/> and the methods' own), named after it in kebab case, with the CLI's older spellings as
/// aliases. A flag not given leaves the property at the Options' default, so the CLI and the ML.NET trainers share
/// their defaults by construction (a test compares them). Refusals name the flag as the user typed it.
/// </summary>
internal sealed class RecipeFlags
{
    private static readonly VisionTransformerTrainer.Options Defaults = new();
    private readonly List<Flag> _flags = new();

    public RecipeFlags()
    {
        Add<int>("--batch-size", nameof(OptionsBase.BatchSize), "images per optimizer step");
        Add<int>("--max-epoch", nameof(OptionsBase.MaxEpoch), "passes over the training set", "--epochs");
        Add<long>("--max-steps", nameof(OptionsBase.MaxSteps), "stop after N optimiser steps (the learning-rate schedule is laid over them; --max-epoch is then not used)");
        Add<double>("--learning-rate", nameof(OptionsBase.LearningRate), "peak learning rate (cosine schedule)", "--lr");
        Add<double>("--min-learning-rate", nameof(OptionsBase.MinLearningRate), "learning-rate floor", "--min-lr");
        Add<double>("--warmup-epochs", nameof(OptionsBase.WarmupEpochs), "linear warm-up length in epochs");
        Add<double>("--weight-decay", nameof(OptionsBase.WeightDecay), "AdamW decoupled weight decay");
        Add<double>("--clip-grad-norm", nameof(OptionsBase.ClipGradNorm), "global gradient-norm limit (0 = off)", "--clip-grad");
        Add<double>("--label-smoothing", nameof(OptionsBase.LabelSmoothing), "label smoothing");
        Add<double>("--min-crop-scale", nameof(OptionsBase.MinCropScale), "random resized crop: smallest area fraction (1 = off)");
        Add<bool>("--horizontal-flip", nameof(OptionsBase.HorizontalFlip), "random horizontal flips (--horizontal-flip false: none)", "--flip");
        Add<double>("--mixup-alpha", nameof(OptionsBase.MixupAlpha), "mixup alpha (0 = off)", "--mixup");
        Add<double>("--cutmix-alpha", nameof(OptionsBase.CutmixAlpha), "cutmix alpha (0 = off)", "--cutmix");
        Add<double>("--drop-path-rate", nameof(OptionsBase.DropPathRate), "stochastic depth rate (default: the backbone config's drop_path_rate)", "--drop-path");
        Add<double>("--logit-distillation-weight", nameof(OptionsBase.LogitDistillationWeight), $"α, logit distillation from the starting model (default {new TokenIdleImageClassificationTrainer.Options().LogitDistillationWeight.ToString(CultureInfo.InvariantCulture)} for --method idle, else 0)", "--logit-weight");
        Add<double>("--feature-distillation-weight", nameof(OptionsBase.FeatureDistillationWeight), $"β, class-feature distillation (default {new TokenIdleImageClassificationTrainer.Options().FeatureDistillationWeight.ToString(CultureInfo.InvariantCulture)} for --method idle, else 0)", "--feature-weight");
        Add<double>("--distillation-temperature", nameof(OptionsBase.DistillationTemperature), "logit distillation temperature", "--temperature");
        Add<double>("--validation-set-fraction", nameof(OptionsBase.ValidationSetFraction), "without --validation: hold out this fraction of the training images (seeded) for validation");
        Add<int>("--early-stopping-patience", nameof(OptionsBase.EarlyStoppingCriteria), "stop after N epochs without validation improving (needs validation)", apply: (o, v) => o.EarlyStoppingCriteria = (o.EarlyStoppingCriteria ?? new EarlyStopping()) with { Patience = v });
        Add<double>("--early-stopping-min-delta", nameof(OptionsBase.EarlyStoppingCriteria), "the smallest validation change that counts as an improvement", apply: (o, v) => o.EarlyStoppingCriteria = (o.EarlyStoppingCriteria ?? new EarlyStopping()) with { MinDelta = v });
        Add<EarlyStoppingMetric>("--early-stopping-metric", nameof(OptionsBase.EarlyStoppingCriteria), "Accuracy or Loss", apply: (o, v) => o.EarlyStoppingCriteria = (o.EarlyStoppingCriteria ?? new EarlyStopping()) with { Metric = v });
        Add<int>("--seed", nameof(OptionsBase.Seed), "seed of initialisation, data order and augmentation (default 1)");
        Add<int>("--data-workers", nameof(OptionsBase.DataWorkers), "threads that decode and resize images while the model trains (default: the cores available)", "--workers");
        Add<int>("--prefetch-batches", nameof(OptionsBase.PrefetchBatches), "batches decoded ahead of the model step", "--prefetch");
        Add<long>("--cache-budget-megabytes", nameof(OptionsBase.CacheBudgetMegabytes), "keep decoded images in memory after their first read when all of them fit in this many MB (0: decode every epoch)", "--cache-mb");
        Add<bool>("--skip-unreadable-images", nameof(OptionsBase.SkipUnreadableImages), "skip corrupt or unsupported image files (each is reported) instead of stopping", "--skip-unreadable");
        Add<long>("--checkpoint-steps", nameof(OptionsBase.CheckpointSteps), "also write last.ckpt.safetensors every N steps within an epoch (resumable at that step)");
        Add<int>("--image-size", nameof(OptionsBase.ImageSize), "input size in pixels (default: the backbone's; another size resamples the position embedding)");
        Add<double>("--cut-loss-weight", nameof(TokenIdleImageClassificationTrainer.Options.CutLossWeight), "θ, token cut loss weight", "--cut-weight", appliesTo: typeof(TokenIdleImageClassificationTrainer.Options));
        Add<CutLossVariant>("--cut-loss", nameof(TokenIdleImageClassificationTrainer.Options.CutLoss), "cut-loss terms: Both, Inter, Intra, None", appliesTo: typeof(TokenIdleImageClassificationTrainer.Options));
        Add<int>("--predictor-epochs", nameof(LifeRegressionSlimmingTrainer.Options.PredictorEpochs), "life regression: epochs of stage 1 (predictor only)", appliesTo: typeof(LifeRegressionSlimmingTrainer.Options));
        Add<double>("--predictor-learning-rate", nameof(LifeRegressionSlimmingTrainer.Options.PredictorLearningRate), "life regression: learning rate of stage 1", appliesTo: typeof(LifeRegressionSlimmingTrainer.Options));
        Add<TrainingStage>("--stage", nameof(LifeRegressionSlimmingTrainer.Options.Stage), "life regression: one stage alone with this recipe, PredictorOnly, BackboneOnly or All (both together); default: stage 1, then stage 2", appliesTo: typeof(LifeRegressionSlimmingTrainer.Options));
    }

    /// <summary>The options properties the flags set (the test that compares the CLI with the Options reads it).</summary>
    public IEnumerable<string> Properties => _flags.Select(f => f.Property).Distinct();

    /// <summary>Adds the flags to <paramref name="command"/>.</summary>
    public void AddTo(Command command) => _flags.ForEach(f => command.Options.Add(f.Option));

    /// <summary>Sets the properties whose flags were given; a flag for another method's property is refused in one line.</summary>
    /// <exception cref="ArgumentException">A flag that does not apply to the chosen method.</exception>
    public void Apply(ParseResult result, OptionsBase options, string method)
    {
        foreach (var flag in _flags.Where(f => result.GetResult(f.Option) is { Implicit: false }))
        {
            if (!flag.AppliesTo.IsInstanceOfType(options))
            {
                throw new ArgumentException($"{CommandRunner.Typed(result, flag.Option)} does not apply to --method {method}");
            }

            flag.Apply(result, options);
        }
    }

    /// <summary>
    /// <paramref name="message"/> (a refusal of the options) with each property it names replaced by the flag that sets
    /// it, as the user typed it.
    /// </summary>
    public string InFlagNames(ParseResult result, string message)
    {
        foreach (var flag in _flags.Where(f => f.Option.Name != "--early-stopping-min-delta" && f.Option.Name != "--early-stopping-metric").OrderByDescending(f => f.Property.Length))
        {
            message = Regex.Replace(message, $@"\b{flag.Property}\b", CommandRunner.Typed(result, flag.Option));
        }

        return message;
    }

    private void Add<T>(string name, string property, string description, string? alias = null, Type? appliesTo = null, Action<OptionsBase, T>? apply = null)
        where T : struct
    {
        var type = appliesTo ?? typeof(OptionsBase);
        var setter = type.GetProperty(property) ?? throw new InvalidOperationException($"no property {property} on {type.Name}");
        var option = alias is null ? new Option<T?>(name) : new Option<T?>(name, alias);
        var defaults = type.IsAbstract ? Defaults : Activator.CreateInstance(type);
        var value = apply is null ? setter.GetValue(defaults) : null;
        option.Description = value is null || description.Contains("(default", StringComparison.Ordinal) ? description : $"{description} (default {Convert.ToString(value, CultureInfo.InvariantCulture)})";
        if (typeof(T) == typeof(bool))
        {
            // A bare boolean flag means true, as System.CommandLine's bool options do.
            option.Arity = ArgumentArity.ZeroOrOne;
            option.DefaultValueFactory = null;
        }

        _flags.Add(new Flag(option, property, type, (result, options) =>
        {
            var given = result.GetValue(option) ?? (typeof(T) == typeof(bool) ? (T)(object)true : throw new ArgumentException($"{CommandRunner.Typed(result, option)} needs a value"));
            if (apply is not null)
            {
                apply(options, given);
            }
            else
            {
                setter.SetValue(options, given);
            }
        }));
    }

    private sealed record Flag(Option Option, string Property, Type AppliesTo, Action<ParseResult, OptionsBase> Apply);
}
