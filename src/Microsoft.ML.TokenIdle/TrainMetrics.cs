namespace Microsoft.ML.TokenIdle;

/// <summary>Progress of the ViT trainers (ML.NET's <c>TrainMetrics</c> plus the token-reduction and speed fields).</summary>
public sealed class TrainMetrics
{
    /// <summary>Train or Validation.</summary>
    public string DatasetUsed { get; init; } = "Train";

    /// <summary>Steps done in this epoch.</summary>
    public int BatchProcessedCount { get; init; }

    /// <summary>0-based epoch.</summary>
    public int Epoch { get; init; }

    /// <summary>Validation top-1 (NaN during an epoch or without a validation set).</summary>
    public double Accuracy { get; init; } = double.NaN;

    /// <summary>Mean training loss so far in the epoch (validation: mean cross-entropy).</summary>
    public double CrossEntropy { get; init; }

    /// <summary>The learning rate of the last step.</summary>
    public double LearningRate { get; init; }

    /// <summary>Training images per second in this epoch.</summary>
    public double ImagesPerSecond { get; init; }

    /// <summary>The method's GMACs per image in the paper's convention.</summary>
    public double GMacs { get; init; }

    /// <summary>Estimated time to the end of training.</summary>
    public TimeSpan Remaining { get; init; }

    /// <summary>Images per second the data pipeline's workers decode (their capacity); null when the images are in memory.</summary>
    public double? DataImagesPerSecond { get; init; }

    /// <summary>Fraction of the epoch the model step waited for data (near 0: compute bounds the run; near 1: data does).</summary>
    public double DataWaitFraction { get; init; }

    /// <inheritdoc/>
    public override string ToString()
        => $"Phase: Training, Dataset used: {DatasetUsed,10}, Batch Processed Count: {BatchProcessedCount,3}, Epoch: {Epoch,3}, Accuracy: {Accuracy,10:F4}, Cross-Entropy: {CrossEntropy,10:F4}, Learning Rate: {LearningRate:E2}, Images/s: {ImagesPerSecond:F0}, Decoded/s: {(DataImagesPerSecond is { } d ? d.ToString("F0", System.Globalization.CultureInfo.InvariantCulture) : "in memory")}, Waiting for data: {DataWaitFraction:P0}, GMACs: {GMacs:F3}, ETA: {Remaining:hh\\:mm\\:ss}";
}
