using System.Reflection;
using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.ML.TokenIdle.Models;
using TokenIdle.Cli.Commands;
using OptionsBase = Microsoft.ML.TokenIdle.VisionTransformerTrainerBase.OptionsBase;

namespace Microsoft.ML.TokenIdle.Tests.Cli;

/// <summary><c>tokenidle train</c>'s flags against the trainers' Options: one recipe, the same names and defaults.</summary>
public sealed class TrainFlagsTests
{
    // What train does not take from a flag of the same name, and why.
    private static readonly Dictionary<string, string> Elsewhere = new()
    {
        ["LabelColumnName"] = "ML.NET columns: files and folders have no columns",
        ["ImageColumnName"] = "ML.NET columns",
        ["ScoreColumnName"] = "ML.NET columns",
        ["PredictedLabelColumnName"] = "ML.NET columns",
        ["TokenMaskColumnName"] = "ML.NET columns",
        ["ShuffleBufferMegabytes"] = "ML.NET views only: image files are read in any order",
        ["Backbone"] = "--model, --config, --weights, --revision",
        ["Device"] = "--device",
        ["Precision"] = "--precision",
        ["WorkspacePath"] = "--output",
        ["TokenReduction"] = "--method and the method's flags",
        ["KeepRatio"] = "--keep-ratio",
        ["Schedule"] = "--schedule",
        ["Layers"] = "--layers",
        ["FuseInattentive"] = "--method evit (false) or evit-fuse (true)",
        ["PredictorLayer"] = "--predictor-layer",
        ["Steepness"] = "--steepness",
    };

    public static TheoryData<string, Type> Methods => new()
    {
        { "full", typeof(VisionTransformerTrainer.Options) },
        { "idle", typeof(TokenIdleImageClassificationTrainer.Options) },
        { "evit-fuse", typeof(TokenReorganizationImageClassificationTrainer.Options) },
        { "life", typeof(LifeRegressionSlimmingTrainer.Options) },
    };

    [Theory]
    [MemberData(nameof(Methods))]
    public void EveryOptionIsAFlagAndNoFlagGivenMeansTheOptionsDefaults(string method, Type optionsType)
    {
        var flags = new TrainFlags();
        var bound = flags.Recipe.Properties.ToHashSet();
        foreach (var property in Settable(optionsType).Concat(Settable(((OptionsBase)Activator.CreateInstance(optionsType)!).GetType().GetProperty("TokenReduction")?.PropertyType)))
        {
            Assert.True(bound.Contains(property.Name) || Elsewhere.ContainsKey(property.Name), $"{optionsType.DeclaringType!.Name}.Options.{property.Name} has no flag on tokenidle train");
        }

        // No flag given: exactly the Options' defaults (the CLI sets only what the command line names).
        var result = flags.Command().Parse(new[] { "--method", method, "--output", "out" });
        Assert.Empty(result.Errors);
        var options = flags.Bind(result, VisionTransformerConfig.DeitTiny);
        var expected = (OptionsBase)Activator.CreateInstance(optionsType)!;
        expected.WorkspacePath = "out";
        Assert.Equal(optionsType, options.GetType());
        Assert.Equal(Json(expected), Json(options));
    }

    [Fact]
    public void FlagsSetTheirPropertiesUnderTodaysAndTheOlderNames()
    {
        var flags = new TrainFlags();
        var result = flags.Command().Parse(new[]
        {
            "--method", "idle", "--output", "out", "--epochs", "2", "--lr", "0.01", "--min-learning-rate", "1e-5", "--flip", "--cut-weight", "3",
            "--drop-path", "0.2", "--mixup", "0.3", "--early-stopping-patience", "2", "--validation-set-fraction", "0.1", "--keep-rate", "0.5", "--workers", "3",
        });
        Assert.Empty(result.Errors);
        var options = (TokenIdleImageClassificationTrainer.Options)flags.Bind(result, VisionTransformerConfig.DeitTiny);
        Assert.Equal((2, 0.01, 1e-5, true, 3.0, 0.2, 0.3, 2, 0.1, 0.5, 3), (options.MaxEpoch, options.LearningRate, options.MinLearningRate, options.HorizontalFlip, options.CutLossWeight,
            options.DropPathRate, options.MixupAlpha, options.EarlyStoppingCriteria!.Patience, options.ValidationSetFraction, options.TokenReduction.KeepRatio, options.DataWorkers));
        Assert.Equal((5.0, 500.0), (options.LogitDistillationWeight, options.FeatureDistillationWeight));
    }

    private static IEnumerable<PropertyInfo> Settable(Type? type) => type is null ? Enumerable.Empty<PropertyInfo>()
        : type.GetProperties(BindingFlags.Public | BindingFlags.Instance)
            .Where(p => p.CanWrite && p.SetMethod!.IsPublic && p.GetCustomAttribute<JsonIgnoreAttribute>() is null && p.GetCustomAttribute<ObsoleteAttribute>() is null);

    private static string Json(OptionsBase options) => JsonSerializer.Serialize(options, options.GetType());
}
