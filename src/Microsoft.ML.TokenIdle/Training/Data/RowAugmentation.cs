using Microsoft.ML.TokenIdle.Nn;
using Microsoft.ML.TokenIdle.Training.Augmentation;

namespace Microsoft.ML.TokenIdle.Training.Data;

/// <summary>
/// A training pass's per-row augmentation, applied where a row's decoded source image becomes the model's input: each
/// row's crop and flip are drawn from the run's seed, the epoch and the row, so a pass is the same whatever the number
/// of decode workers, and a resumed pass repeats it.
/// </summary>
/// <param name="Crop">The crop and flip.</param>
/// <param name="Seed">The run's seed.</param>
/// <param name="Epoch">The pass's epoch.</param>
internal sealed record RowAugmentation(RandomResizedCrop Crop, int Seed, int Epoch)
{
    /// <summary>The random stream of row <paramref name="key"/> in this pass.</summary>
    public Random For(int key) => new(Seeds.Derive(Seed, 4 + ((long)Epoch << 8), key));

    /// <summary>The model's input of row <paramref name="key"/> from its decoded source image.</summary>
    public byte[] Apply(int key, Imaging.PixelImage source, Imaging.ImageInputFormat format) => Crop.Apply(source, format, For(key));
}
