#!/usr/bin/env dotnet
#:package SkiaSharp@3.119.4
#:package SkiaSharp.NativeAssets.Linux.NoDependencies@3.119.2
#:property PublishAot=false
// Writes a labelled image folder for the data-pipeline measurements: COUNT images in CLASSES sub-folders (0, 1, …).
//   png: small random-noise PNGs (WIDTH×HEIGHT, e.g. 32×32) — cheap files that decode to the model's size;
//   jpg: photo-like JPEGs (smooth gradients, blobs and grain, quality 90), e.g. 500×375 as an ordinary photo.
// usage: dotnet run eng/data/make-image-folder.cs -- FOLDER COUNT CLASSES WIDTH HEIGHT png|jpg [SEED]
using SkiaSharp;

var (folder, count, classes, width, height, format) = (args[0], int.Parse(args[1]), int.Parse(args[2]), int.Parse(args[3]), int.Parse(args[4]), args[5]);
var seed = args.Length > 6 ? int.Parse(args[6]) : 1;
for (var c = 0; c < classes; c++)
{
    Directory.CreateDirectory(Path.Combine(folder, c.ToString()));
}

Parallel.For(0, count, i =>
{
    var random = new Random(seed * 1_000_003 + i);
    using var bitmap = new SKBitmap(width, height, SKColorType.Rgba8888, SKAlphaType.Opaque);
    var pixels = new byte[width * height * 4];
    if (format == "png")
    {
        random.NextBytes(pixels);
        for (var p = 3; p < pixels.Length; p += 4)
        {
            pixels[p] = 255;
        }
    }
    else
    {
        // Smooth colour fields with a few soft blobs and grain: JPEG sizes and decode costs of ordinary photos.
        var (r0, g0, b0) = (random.Next(256), random.Next(256), random.Next(256));
        var blobs = Enumerable.Range(0, 6).Select(_ => (X: random.Next(width), Y: random.Next(height), R: 20 + random.Next(width / 3), C: random.Next(256))).ToArray();
        for (var y = 0; y < height; y++)
        {
            for (var x = 0; x < width; x++)
            {
                var v = 0.0;
                foreach (var b in blobs)
                {
                    var d = ((x - b.X) * (x - b.X)) + ((y - b.Y) * (y - b.Y));
                    v += b.C * Math.Exp(-d / (2.0 * b.R * b.R));
                }

                var o = ((y * width) + x) * 4;
                var grain = random.Next(-12, 13);
                pixels[o] = (byte)Math.Clamp((r0 * x / width) + (v * 0.5) + grain, 0, 255);
                pixels[o + 1] = (byte)Math.Clamp((g0 * y / height) + (v * 0.3) + grain, 0, 255);
                pixels[o + 2] = (byte)Math.Clamp(b0 + (v * 0.2) + grain, 0, 255);
                pixels[o + 3] = 255;
            }
        }
    }

    System.Runtime.InteropServices.Marshal.Copy(pixels, 0, bitmap.GetPixels(), pixels.Length);
    using var image = SKImage.FromBitmap(bitmap);
    using var data = image.Encode(format == "png" ? SKEncodedImageFormat.Png : SKEncodedImageFormat.Jpeg, 90);
    using var file = File.Create(Path.Combine(folder, (i % classes).ToString(), $"{i:D7}.{format}"));
    data.SaveTo(file);
});
Console.WriteLine($"{count} {format} images of {width}x{height} in {classes} classes under {folder}");
