using Microsoft.ML.Data;
using Microsoft.ML.TokenIdle.Imaging;
using Microsoft.ML.TokenIdle.Models;
using Microsoft.ML.Transforms.Image;

namespace Microsoft.ML.TokenIdle.Components;

/// <summary>
/// Reads the current row's value of an image column (<see cref="ImageColumn"/>) as a model input. A value
/// that cannot be read fails with the column, the row and the row's text values (its image path among
/// them), since ML.NET's loader does not name the file it could not decode.
/// </summary>
internal sealed class ImageColumnReader : IDisposable
{
    private readonly DataViewRow _row;
    private readonly DataViewSchema.Column _column;
    private readonly Func<(PixelImage? Source, float[]? Values)> _read;
    private readonly ImageInputFormat _format;
    private readonly ValueGetter<ReadOnlyMemory<char>>[] _describers;
    private readonly string[] _describerNames;
    private MLImage? _image;

    /// <summary>A reader over <paramref name="row"/>, whose cursor must have the image column and <see cref="ImageColumn.DescribingColumns"/> active.</summary>
    public ImageColumnReader(DataViewRow row, DataViewSchema.Column column, VisionTransformerConfig config)
    {
        (_row, _column, _format) = (row, column, config.InputFormat);
        var channels = _format.Channels;
        var describing = ImageColumn.DescribingColumns(row.Schema).Where(row.IsColumnActive).ToArray();
        _describers = describing.Select(c => row.GetGetter<ReadOnlyMemory<char>>(c)).ToArray();
        _describerNames = describing.Select(c => c.Name).ToArray();
        switch (column.Type)
        {
            case ImageDataViewType:
            {
                var getter = row.GetGetter<MLImage>(column);
                _read = () =>
                {
                    // ML.NET's getter disposes the image it is handed back and makes the next one.
                    getter(ref _image!);
                    return (ImageDecoder.FromMLImage(_image ?? throw new InvalidDataException("the row has no image (an empty path)")).ToColorChannels(channels), null);
                };
                break;
            }

            case VectorDataViewType { ItemType: var item } when item == NumberDataViewType.Byte:
            {
                var getter = row.GetGetter<VBuffer<byte>>(column);
                VBuffer<byte> encoded = default;
                _read = () =>
                {
                    getter(ref encoded);
                    if (encoded.Length == 0)
                    {
                        throw new InvalidDataException("the row has no image bytes (LoadRawImageBytes gives none for a missing or unreadable file)");
                    }

                    return (ImageDecoder.Decode(encoded.DenseValues().ToArray(), "encoded image").ToColorChannels(channels), null);
                };
                break;
            }

            default:
            {
                var getter = row.GetGetter<VBuffer<float>>(column);
                VBuffer<float> values = default;
                _read = () =>
                {
                    getter(ref values);
                    return (null, values.DenseValues().ToArray());
                };
                break;
            }
        }
    }

    /// <summary>Reads the current row's input into <paramref name="inputs"/>, fitted to the model's size.</summary>
    /// <exception cref="InvalidDataException">The value is missing or cannot be decoded; the message names the column, row and path.</exception>
    public void ReadInto(ModelInputList inputs)
    {
        var (pixels, values) = Read(_row.Position);
        if (pixels is not null)
        {
            inputs.Add(pixels);
        }
        else
        {
            inputs.Add(values!);
        }
    }

    /// <summary>The current row's input: planar pixel bytes, or normalised values; <paramref name="row"/> is the row number errors name.</summary>
    /// <exception cref="InvalidDataException">The value is missing or cannot be decoded; the message names the column, row and path.</exception>
    public (byte[]? Pixels, float[]? Values) Read(long row)
    {
        var (source, values) = ReadSource(row);
        return (source is null ? null : _format.ToPlanar(source), values);
    }

    /// <summary>
    /// The current row's decoded source image at its own size with the model's channels (what a training crop reads), or
    /// its normalised values; <paramref name="row"/> is the row number errors name.
    /// </summary>
    /// <exception cref="InvalidDataException">The value is missing or cannot be decoded; the message names the column, row and path.</exception>
    public (PixelImage? Source, float[]? Values) ReadSource(long row)
    {
        try
        {
            return _read();
        }
        catch (Exception e) when (e is InvalidDataException or ArgumentException or InvalidOperationException or IOException or UnauthorizedAccessException)
        {
            throw new InvalidDataException($"image column '{_column.Name}', row {row}{Describe()}: {e.Message}", e);
        }
    }

    /// <inheritdoc/>
    public void Dispose() => _image?.Dispose();

    private string Describe()
    {
        var parts = new List<string>();
        for (var i = 0; i < _describers.Length; i++)
        {
            ReadOnlyMemory<char> value = default;
            _describers[i](ref value);
            var text = value.Length > 200 ? value[..200] + "…" : value.ToString();
            parts.Add($"{_describerNames[i]}: '{text}'");
        }

        return parts.Count == 0 ? string.Empty : $" ({string.Join(", ", parts)})";
    }
}
