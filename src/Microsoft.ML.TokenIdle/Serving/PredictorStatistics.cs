namespace Microsoft.ML.TokenIdle.Serving;

/// <summary>What a <see cref="BatchingPredictor"/> has done since it started (a snapshot).</summary>
/// <param name="Scored">Requests answered with a prediction.</param>
/// <param name="Batches">Batches scored (one ML.NET transform each).</param>
/// <param name="LargestBatch">The most requests scored in one batch.</param>
/// <param name="Rejected">Requests refused because the queue was full.</param>
/// <param name="Canceled">Requests whose caller went away before they were scored.</param>
/// <param name="Failed">Requests answered with an error (an image that does not decode, no model loaded).</param>
/// <param name="Reloads">Times a changed zip was loaded and swapped in.</param>
/// <param name="Queued">Requests waiting now.</param>
public sealed record PredictorStatistics(long Scored, long Batches, long LargestBatch, long Rejected, long Canceled, long Failed, long Reloads, int Queued);
