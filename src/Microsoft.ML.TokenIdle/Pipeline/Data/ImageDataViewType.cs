namespace Microsoft.ML.TokenIdle.Pipeline.Data;

/// <summary>An image column's type (ML.NET's <c>ImageDataViewType</c>): values are <see cref="MLImage"/>; a size of 0 × 0 means any size.</summary>
public sealed class ImageDataViewType : DataViewType
{
    /// <summary>Images of any size.</summary>
    public ImageDataViewType()
        : this(0, 0)
    {
    }

    /// <summary>Images of <paramref name="height"/> × <paramref name="width"/>.</summary>
    public ImageDataViewType(int height, int width)
        : base(typeof(MLImage))
    {
        if (height < 0 || width < 0 || (height == 0) != (width == 0))
        {
            throw new ArgumentException($"image type needs both sizes positive or both 0, got {height}x{width}");
        }

        (Height, Width) = (height, width);
    }

    /// <summary>Height in pixels (0: any).</summary>
    public int Height { get; }

    /// <summary>Width in pixels (0: any).</summary>
    public int Width { get; }

    /// <summary>Whether every image has the same known size.</summary>
    public bool IsKnownSize => Height > 0;

    /// <inheritdoc/>
    public override bool Equals(DataViewType? other) => other is ImageDataViewType i && i.Height == Height && i.Width == Width;

    /// <inheritdoc/>
    public override int GetHashCode() => HashCode.Combine(Height, Width);

    /// <inheritdoc/>
    public override string ToString() => IsKnownSize ? $"Image<{Height}, {Width}>" : "Image";
}
