namespace Microsoft.ML.TokenIdle.Imaging;

/// <summary>Which part of the image a crop or pad keeps in place (ML.NET's <c>Anchor</c>).</summary>
public enum ResizeAnchor
{
    /// <summary>The right edge.</summary>
    Right,

    /// <summary>The left edge.</summary>
    Left,

    /// <summary>The top edge.</summary>
    Top,

    /// <summary>The bottom edge.</summary>
    Bottom,

    /// <summary>The centre.</summary>
    Center,
}
