using System.Globalization;
using Microsoft.ML.TokenIdle.Models.TokenMerging;
using Microsoft.ML.TokenIdle.Models.TokenReduction;

namespace Microsoft.ML.TokenIdle.CodeGeneration;

/// <summary>
/// A classifier that scores with another reduction than its trainer trained (<see cref="VisionTransformerClassifier.WithTokenReduction"/>)
/// as C#: the call that gives it, for the generated code to say after the trainer.
/// </summary>
internal static class ReductionCode
{
    /// <summary>
    /// <c>classifier.WithTokenReduction(…)</c> for <paramref name="classifier"/>'s reduction when its trainer's
    /// <paramref name="trained"/> options train another (or the same with other settings); null when they train it.
    /// </summary>
    public static string? WithTokenReductionCall(VisionTransformerClassifier classifier, VisionTransformerTrainerBase.OptionsBase trained)
    {
        var depth = classifier.Model.Config.Depth;
        var own = Describe(classifier.Method, classifier.Reduction);
        var theirs = trained.Method switch
        {
            null => Describe(TokenReductionMethods.Names[(int)TokenReductionMethod.Full], null),
            TokenMergingOptions merging => Describe(merging.Name, merging.BuildSchedule(depth).PerLayer, merging.ProportionalAttention ?? trained.MaxEpoch == 0),
            TokenReductionOptions ratios => Describe(ratios.Name, ratios.BuildSchedule(depth).Ratios),
            var other => other.Name,
        };
        return own == theirs ? null : $"classifier.WithTokenReduction({Options(classifier)})";
    }

    private static string Describe(string method, IReducedForward? reduction) => reduction switch
    {
        TokenMergingForward merging => Describe(method, merging.Schedule.PerLayer, merging.ProportionalAttention),
        TokenReductionStrategy strategy => Describe(method, strategy.Schedule.Ratios),
        _ => method,
    };

    private static string Describe<T>(string method, IReadOnlyList<T> schedule, bool? proportional = null)
        => FormattableString.Invariant($"{method} {string.Join(",", schedule)} {proportional}");

    // The options object that gives the classifier's reduction (life regression's predictor is a trained weight: the
    // call makes an untrained one unless Predictor is set).
    private static string Options(VisionTransformerClassifier classifier) => classifier.Reduction switch
    {
        null => "null",
        TokenMergingForward merging => $"new TokenMergingOptions {{ Schedule = {CSharpLiteral.Of(merging.Schedule.PerLayer.ToArray())}, ProportionalAttention = {CSharpLiteral.Of(merging.ProportionalAttention)} }}",
        TokenReductionStrategy strategy => classifier.Method switch
        {
            "evit" or "evit-fuse" => $"new TokenReorganizationOptions {{ FuseInattentive = {CSharpLiteral.Of(classifier.Method == "evit-fuse")}, Schedule = {Ratios(strategy)} }}",
            "idle" => $"new TokenIdlingOptions {{ Schedule = {Ratios(strategy)} }}",
            "life" when strategy.Selector is LifeRegressionSelector life => string.Create(CultureInfo.InvariantCulture,
                $"new LifeRegressionOptions {{ Schedule = {Ratios(strategy)}, PredictorLayer = {life.PredictorLayer}, Steepness = {CSharpLiteral.Of(life.Steepness)} /* Predictor = the trained predictor */ }}"),
            var other => $"/* the {other} method's options */ null",
        },
        var other => $"/* {other.GetType().Name}'s options */ null",
    };

    private static string Ratios(TokenReductionStrategy strategy) => CSharpLiteral.Of(strategy.Schedule.Ratios.ToArray());
}
