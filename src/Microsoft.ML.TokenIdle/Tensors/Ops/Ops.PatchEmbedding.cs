namespace Microsoft.ML.TokenIdle.Tensors;

public static partial class Ops
{
    /// <summary>
    /// Cuts images [B,C,H,W] into non-overlapping P×P patches [B, (H/P)·(W/P), C·P·P]: patches in
    /// raster order, each vector channel-major then row then column, so that a Linear with the
    /// [E, C·P·P] view of a convolution kernel equals the stride-P convolution.
    /// </summary>
    public static Tensor Patchify(Tensor images, int patch)
    {
        if (images.Rank != 4 || patch < 1 || images.Size(2) % patch != 0 || images.Size(3) % patch != 0)
        {
            throw ShapeError("patchify", $"images must be [B,C,H,W] with H and W multiples of the patch size {patch}", images.Shape);
        }

        var be = BackendOf(images);
        var cells = images.Size(2) / patch * (images.Size(3) / patch);
        var y = be.Empty(new[] { images.Size(0), cells, images.Size(1) * patch * patch });
        be.Patchify(images, patch, y, reverseAccumulate: false);
        GradientTape.Record(y, () =>
        {
            if (y.Grad is { } gy && images.RequiresGrad)
            {
                be.Patchify(images.GradOrZeros(), patch, gy, reverseAccumulate: true);
            }
        }, images);
        return y;
    }
}
