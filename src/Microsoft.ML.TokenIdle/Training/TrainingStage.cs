namespace Microsoft.ML.TokenIdle.Training;

/// <summary>Which parameters a training run updates.</summary>
public enum TrainingStage
{
    /// <summary>The backbone (and a life predictor, when the method has one).</summary>
    All,

    /// <summary>Life regression stage 1: only the predictor; the backbone is frozen.</summary>
    PredictorOnly,

    /// <summary>Life regression stage 2: only the backbone; the predictor is frozen.</summary>
    BackboneOnly,
}
