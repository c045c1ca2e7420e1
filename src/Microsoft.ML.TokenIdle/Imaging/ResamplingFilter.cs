namespace Microsoft.ML.TokenIdle.Imaging;

/// <summary>The interpolation kernel of a resize; both widen with the scale when shrinking (antialiasing).</summary>
public enum ResamplingFilter
{
    /// <summary>Triangle kernel, support 1.</summary>
    Bilinear,

    /// <summary>Keys cubic kernel with a = −0.5, support 2.</summary>
    Bicubic,
}
