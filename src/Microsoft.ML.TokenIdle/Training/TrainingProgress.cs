namespace Microsoft.ML.TokenIdle.Training;

/// <summary>Where a training run stands, reported after every step and every validation.</summary>
/// <param name="Epoch">0-based epoch.</param>
/// <param name="Epochs">Epochs of the run.</param>
/// <param name="Step">0-based step within the epoch.</param>
/// <param name="StepsPerEpoch">Steps per epoch.</param>
/// <param name="Loss">Mean training loss of the epoch so far.</param>
/// <param name="LearningRate">The rate of the last step.</param>
/// <param name="ImagesPerSecond">Training throughput of the epoch so far (images the model trained on per second).</param>
/// <param name="Remaining">Estimated time to the end of the run.</param>
/// <param name="EpochCompleted">True for the one report after the epoch's last step, validation and checkpoint.</param>
/// <param name="Validation">The epoch's validation once completed (null without a validation set and during the epoch).</param>
public sealed record TrainingProgress(int Epoch, int Epochs, int Step, int StepsPerEpoch, double Loss, double LearningRate, double ImagesPerSecond, TimeSpan Remaining, bool EpochCompleted, EvaluationResult? Validation)
{
    /// <summary>Images per second the data pipeline's workers decode (their capacity, measured over their busy time); null when the images come from memory.</summary>
    public double? DataImagesPerSecond { get; init; }

    /// <summary>Fraction of the epoch's time the model step waited for data (near 0: compute bounds the run; near 1: data does).</summary>
    public double DataWaitFraction { get; init; }
}
