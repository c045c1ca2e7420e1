using System.Runtime.InteropServices;

namespace Microsoft.ML.TokenIdle.Imaging;

/// <summary>
/// JPEG decoding through libjpeg-turbo's TurboJPEG API (<c>libturbojpeg.so.0</c>, Debian package
/// <c>libturbojpeg0</c>; <c>TOKENIDLE_TURBOJPEG</c> names another file), loaded on first use so the
/// library runs without it until a JPEG is read. Grey JPEGs decode to one channel, others to RGB.
/// A warning from the decoder (such as a truncated file) is an error here: half an image is not data.
/// </summary>
public static unsafe class JpegCodec
{
    private const int PixelFormatRgb = 0;
    private const int PixelFormatGray = 6;
    private const int ColorspaceGray = 2;
    private static readonly Lazy<Api> Library = new(Api.Load);

    /// <summary>Whether <paramref name="data"/> starts with the JPEG start-of-image marker.</summary>
    public static bool IsJpeg(ReadOnlySpan<byte> data) => data.Length >= 3 && data[0] == 0xFF && data[1] == 0xD8 && data[2] == 0xFF;

    /// <summary>Whether libturbojpeg could be loaded (JPEG decoding works).</summary>
    public static bool IsAvailable
    {
        get
        {
            try
            {
                _ = Library.Value;
                return true;
            }
            catch (DllNotFoundException)
            {
                return false;
            }
        }
    }

    /// <summary>Decodes a JPEG file held in memory (without applying its EXIF orientation).</summary>
    /// <exception cref="InvalidDataException">The data is not a decodable JPEG; the message carries the decoder's reason.</exception>
    /// <exception cref="DllNotFoundException">libturbojpeg is not installed.</exception>
    public static PixelImage Decode(ReadOnlySpan<byte> data)
    {
        if (!IsJpeg(data))
        {
            throw new InvalidDataException("not a JPEG file (no start-of-image marker)");
        }

        var api = Library.Value;
        var handle = api.InitDecompress();
        if (handle == IntPtr.Zero)
        {
            throw new InvalidOperationException("libturbojpeg could not create a decompressor");
        }

        try
        {
            fixed (byte* source = data)
            {
                int width, height, subsampling, colorspace;
                if (api.DecompressHeader3(handle, source, new CULong((nuint)data.Length), &width, &height, &subsampling, &colorspace) != 0)
                {
                    throw new InvalidDataException($"JPEG header: {api.Error(handle)}");
                }

                var channels = colorspace == ColorspaceGray ? 1 : 3;
                if ((long)width * height > 1L << 28)
                {
                    throw new InvalidDataException($"JPEG of {width}x{height} is too large");
                }

                var pixels = new byte[(long)width * height * channels];
                fixed (byte* target = pixels)
                {
                    if (api.Decompress2(handle, source, new CULong((nuint)data.Length), target, width, width * channels, height, channels == 1 ? PixelFormatGray : PixelFormatRgb, 0) != 0)
                    {
                        throw new InvalidDataException($"JPEG data: {api.Error(handle)}");
                    }
                }

                return new PixelImage(width, height, channels, pixels);
            }
        }
        finally
        {
            api.Destroy(handle);
        }
    }

    private sealed class Api
    {
        public delegate* unmanaged<IntPtr> InitDecompress;
        public delegate* unmanaged<IntPtr, byte*, CULong, int*, int*, int*, int*, int> DecompressHeader3;
        public delegate* unmanaged<IntPtr, byte*, CULong, byte*, int, int, int, int, int, int> Decompress2;
        public delegate* unmanaged<IntPtr, int> Destroy;
        public delegate* unmanaged<IntPtr, byte*> GetErrorStr2;

        public string Error(IntPtr handle) => Marshal.PtrToStringUTF8((IntPtr)GetErrorStr2(handle)) ?? "unknown error";

        public static Api Load()
        {
            var names = Environment.GetEnvironmentVariable("TOKENIDLE_TURBOJPEG") is { Length: > 0 } custom
                ? new[] { custom }
                : new[] { "libturbojpeg.so.0", "libturbojpeg.so", "turbojpeg", "libturbojpeg.dylib" };
            foreach (var name in names)
            {
                if (NativeLibrary.TryLoad(name, out var library))
                {
                    return new Api
                    {
                        InitDecompress = (delegate* unmanaged<IntPtr>)NativeLibrary.GetExport(library, "tjInitDecompress"),
                        DecompressHeader3 = (delegate* unmanaged<IntPtr, byte*, CULong, int*, int*, int*, int*, int>)NativeLibrary.GetExport(library, "tjDecompressHeader3"),
                        Decompress2 = (delegate* unmanaged<IntPtr, byte*, CULong, byte*, int, int, int, int, int, int>)NativeLibrary.GetExport(library, "tjDecompress2"),
                        Destroy = (delegate* unmanaged<IntPtr, int>)NativeLibrary.GetExport(library, "tjDestroy"),
                        GetErrorStr2 = (delegate* unmanaged<IntPtr, byte*>)NativeLibrary.GetExport(library, "tjGetErrorStr2"),
                    };
                }
            }

            throw new DllNotFoundException($"JPEG decoding needs libturbojpeg (install it with 'apt-get install libturbojpeg0', or set TOKENIDLE_TURBOJPEG to the library file); tried {string.Join(", ", names)}");
        }
    }
}
