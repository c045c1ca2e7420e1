namespace Microsoft.ML.TokenIdle.Training.Data;

/// <summary>
/// One row as the pipeline's readers hand it on: the model's planar pixel bytes [C, S, S] or an already normalised
/// input (floats), or the reason it could not be read (named with its file or row).
/// </summary>
internal readonly record struct SourceRow(int Key, int Label, byte[]? Pixels, float[]? Values, string? Error)
{
    /// <summary>A row that could not be read.</summary>
    public static SourceRow Failed(int key, int label, string error) => new(key, label, null, null, error);
}
