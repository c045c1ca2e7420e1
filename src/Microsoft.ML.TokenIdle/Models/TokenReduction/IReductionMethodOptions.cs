namespace Microsoft.ML.TokenIdle.Models.TokenReduction;

/// <summary>
/// The settings of a token-reduction method — the keep-ratio methods' <see cref="TokenReductionOptions"/> or token
/// merging's <see cref="TokenMerging.TokenMergingOptions"/> — from which a trainer, a classifier's
/// <c>WithTokenReduction</c> and the CLI make the same method.
/// </summary>
public interface IReductionMethodOptions
{
    /// <summary>The method's name as the CLI, saved models and reports spell it (e.g. <c>idle</c>, <c>tome</c>).</summary>
    string Name { get; }

    /// <summary>Checks the settings; with <paramref name="depth"/>, also against a model of that many layers.</summary>
    /// <exception cref="ArgumentException">A value is invalid; the message names it.</exception>
    void Validate(int? depth = null);

    /// <summary>
    /// The method for a model of <paramref name="config"/>'s shape, validated against it; <paramref name="training"/>
    /// says whether it will be trained (a setting left to its context's default takes the training one).
    /// </summary>
    /// <exception cref="ArgumentException">The settings do not fit the model.</exception>
    IReducedForward CreateForward(VisionTransformerConfig config, bool training);
}
