using Microsoft.ML.TokenIdle.Serialization;
using static TorchSharp.torch;

namespace Microsoft.ML.TokenIdle.Models;

/// <summary>
/// Resizes a learned position embedding [1, 1 + G·G, E] to another patch grid as timm's
/// <c>resample_abs_pos_embed</c> does: the class position is kept and the grid part is resampled with libtorch's
/// <c>interpolate(mode: bicubic, antialias: true, align_corners: false)</c>.
/// </summary>
public static class PositionEmbeddingResampler
{
    /// <summary>Resamples <paramref name="posEmbed"/> to a <paramref name="newGrid"/>² grid.</summary>
    /// <exception cref="ArgumentException">The embedding is not [1, 1 + G², E].</exception>
    public static Tensor Resample(Tensor posEmbed, int newGrid)
    {
        var n = posEmbed.dim() == 3 ? posEmbed.shape[1] - 1 : -1;
        var oldGrid = (long)Math.Round(Math.Sqrt(Math.Max(n, 0)));
        if (posEmbed.dim() != 3 || posEmbed.shape[0] != 1 || oldGrid * oldGrid != n || n < 1)
        {
            throw new ArgumentException($"pos_embed {Shapes.Format(posEmbed.shape)} is not [1, 1 + G*G, E]");
        }

        var e = posEmbed.shape[2];
        var grid = posEmbed[.., 1..].reshape(1, oldGrid, oldGrid, e).permute(0, 3, 1, 2).to(float32);
        var resampled = nn.functional.interpolate(grid, new long[] { newGrid, newGrid }, mode: InterpolationMode.Bicubic, align_corners: false, antialias: true);
        return cat(new[] { posEmbed[.., ..1].to(float32), resampled.permute(0, 2, 3, 1).reshape(1, newGrid * newGrid, e) }, 1);
    }
}
