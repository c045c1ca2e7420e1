using Microsoft.ML.TokenIdle.Imaging;
using Microsoft.ML.TokenIdle.Models;
using Microsoft.ML.TokenIdle.Pipeline.Data;

namespace Microsoft.ML.TokenIdle.Pipeline.Trainers;

/// <summary>
/// Turns the values of an image column (decoded <see cref="MLImage"/>s of any size, or encoded PNG/JPEG
/// bytes) into what the model takes: its channels, centre-cropped and resized to its size, planar bytes
/// (<c>ImageDataset.ForModel</c> then normalises them with the model's mean and standard deviation).
/// </summary>
internal static class ImageInput
{
    /// <summary>Whether <paramref name="type"/> is an image column type this reads.</summary>
    public static bool Accepts(DataViewType type) => type is ImageDataViewType || (type is VectorDataViewType { ItemType: NumberDataViewType n } && n.RawType == typeof(byte));

    /// <summary>A reader of the current row's image as the model's planar bytes [C, S, S].</summary>
    public static Func<byte[]> Reader(DataViewRow row, DataViewSchema.Column column, VisionTransformerConfig config)
    {
        if (column.Type is ImageDataViewType)
        {
            var getter = row.GetGetter<MLImage>(column);
            MLImage image = null!;
            return () =>
            {
                getter(ref image);
                return Planar(image.Image, config);
            };
        }

        var bytes = row.GetGetter<VBuffer<byte>>(column);
        VBuffer<byte> encoded = default;
        return () =>
        {
            bytes(ref encoded);
            return Planar(ImageDecoder.Decode(encoded.ToArray(), $"row {row.Position}"), config);
        };
    }

    /// <summary>The model's planar bytes of an image.</summary>
    public static byte[] Planar(PixelImage image, VisionTransformerConfig config) => ImageResizer.Fit(image, config.InChannels, config.ImageSize).ToPlanar();
}
