namespace Microsoft.ML.TokenIdle.Imaging;

/// <summary>How an image is fitted to a new size (ML.NET's <c>ResizingKind</c>).</summary>
public enum ResizeMode
{
    /// <summary>Keep the aspect ratio, scale to fit inside, pad the rest with zeros.</summary>
    IsoPad,

    /// <summary>Keep the aspect ratio, scale to cover, crop the overhang (ML.NET's default).</summary>
    IsoCrop,

    /// <summary>Stretch to the new size.</summary>
    Fill,
}
