using Microsoft.ML.TokenIdle.Imaging;
using Microsoft.ML.TokenIdle.Training.Data;

namespace Microsoft.ML.TokenIdle.Tests.Training.Data;

/// <summary>Image folders and CSV lists, checked against the same Fashion-MNIST images read from the IDX files.</summary>
public sealed class ImageFilesTests : IDisposable
{
    private readonly DirectoryInfo _dir = Directory.CreateTempSubdirectory("image-files");

    public void Dispose() => _dir.Delete(recursive: true);

    /// <summary>Writes the first <paramref name="count"/> Fashion-MNIST test images as PNGs in class sub-folders.</summary>
    internal static ImageDataset WriteFolder(string root, int count)
    {
        var all = FashionMnist.Load("test", size: 28);
        var test = new ImageDataset(all.Pixels[..(count * 784)], all.Labels[..count], all.Format, all.Classes, all.ClassNames);
        for (var i = 0; i < count; i++)
        {
            var dir = Directory.CreateDirectory(Path.Combine(root, test.Labels[i].ToString(System.Globalization.CultureInfo.InvariantCulture)));
            PngEncoder.Save(new PixelImage(28, 28, 1, test.Pixels.AsSpan(i * 784, 784).ToArray()), Path.Combine(dir.FullName, $"{i:D4}.png"));
        }

        return test;
    }

    private static ImageFileOptions Grey(bool skip = false, List<string>? skipped = null) => new()
    {
        Format = new ImageInputFormat(28, 1, new[] { 0.2860f }, new[] { 0.3530f }), Classes = 10, SkipUnreadable = skip, OnSkipped = skipped is null ? null : skipped.Add,
    };

    [Fact]
    public void AFolderOfPngsGivesTheSameBatchesAsTheIdxFiles()
    {
        var expected = WriteFolder(_dir.FullName, 40);
        var loaded = ImageFiles.Folder(_dir.FullName, Grey());
        Assert.Equal(40, loaded.Count);
        Assert.Equal(10, loaded.Classes);

        // Files are read in path order (class folder, then name); compare image by image through the labels and pixels.
        var order = Enumerable.Range(0, 40).OrderBy(i => expected.Labels[i]).ThenBy(i => i).ToArray();
        var (pixels, labels) = SourceReading.ReadAll(loaded);
        Assert.Equal(order.Select(i => expected.Labels[i]), labels);
        Assert.Equal(order.SelectMany(i => expected.Pixels.Skip(i * 784).Take(784)), pixels);
    }

    [Fact]
    public void ACsvListWithAHeaderAndRelativePathsLoadsInRowOrder()
    {
        var expected = WriteFolder(_dir.FullName, 12);
        var lines = new List<string> { "path,label" };
        for (var i = 11; i >= 0; i--)
        {
            lines.Add($"{expected.Labels[i]}/{i:D4}.png,{expected.Labels[i]}");
        }

        var csv = Path.Combine(_dir.FullName, "list.csv");
        File.WriteAllLines(csv, lines);
        var (pixels, labels) = SourceReading.ReadAll(ImageFiles.Csv(csv, Grey()));
        var reversed = Enumerable.Range(0, 12).Reverse().ToArray();
        Assert.Equal(reversed.Select(i => expected.Labels[i]), labels);
        Assert.Equal(reversed.SelectMany(i => expected.Pixels.Skip(i * 784).Take(784)), pixels);
    }

    [Fact]
    public void ACorruptFileStopsThePassWithItsNameAndRowOrIsSkippedAndReportedOnce()
    {
        var written = WriteFolder(_dir.FullName, 10);
        var bad = Path.Combine(_dir.FullName, written.Labels[0].ToString(System.Globalization.CultureInfo.InvariantCulture), "broken.png");
        File.WriteAllText(bad, "not a png");
        var source = ImageFiles.Folder(_dir.FullName, Grey());
        Assert.Equal(11, source.Count);
        var e = Assert.Throws<InvalidDataException>(() => SourceReading.ReadAll(source));
        Assert.Contains(bad, e.Message);
        Assert.Contains("of 11)", e.Message);
        Assert.Contains("skip-unreadable", e.Message);

        var skipped = new List<string>();
        var skipping = ImageFiles.Folder(_dir.FullName, Grey(skip: true, skipped));
        Assert.Equal(10, SourceReading.ReadAll(skipping).Labels.Length);
        Assert.Equal(10, SourceReading.ReadAll(skipping, seed: 3).Labels.Length);
        Assert.Single(skipped);
        Assert.Equal(1, skipping.SkippedCount);
        Assert.Contains(bad, skipped[0]);
    }

    [Fact]
    public void SkipUnreadableSkipsEveryKindOfPerFileFailureAndNamesEachFile()
    {
        WriteFolder(_dir.FullName, 10);
        var folder = Path.Combine(_dir.FullName, "3");
        Directory.CreateDirectory(folder);
        var bad = new Dictionary<string, string>
        {
            [Path.Combine(folder, "bomb.png")] = "is over the decoding limit",
            [Path.Combine(folder, "device.png")] = "is empty or not a regular file",
            [Path.Combine(folder, "fifo.png")] = "is empty or not a regular file",
            [Path.Combine(folder, "text.jpg")] = "not a readable image",
        };
        File.WriteAllBytes(Path.Combine(folder, "bomb.png"), HostileFiles.PngDeclaring(16384, 16384));
        File.CreateSymbolicLink(Path.Combine(folder, "device.png"), "/dev/zero");
        HostileFiles.MakeFifo(Path.Combine(folder, "fifo.png"));
        File.WriteAllText(Path.Combine(folder, "text.jpg"), "no image");

        Assert.Throws<InvalidDataException>(() => SourceReading.ReadAll(ImageFiles.Folder(_dir.FullName, Grey())));
        var skipped = new List<string>();
        Assert.Equal(10, SourceReading.ReadAll(ImageFiles.Folder(_dir.FullName, Grey(skip: true, skipped))).Labels.Length);
        Assert.Equal(4, skipped.Count);
        foreach (var (file, reason) in bad)
        {
            Assert.Contains(skipped, m => m.Contains($"'{file}'", StringComparison.Ordinal) && m.Contains(reason, StringComparison.Ordinal));
        }
    }

    [Fact]
    public void LabelsMixingClassIndicesAndNamesAreRefusedWithTheOddRows()
    {
        var expected = WriteFolder(_dir.FullName, 12);
        var lines = Enumerable.Range(0, 12).Select(i => $"{expected.Labels[i]}/{i:D4}.png,{(i == 7 ? "shirt" : expected.Labels[i].ToString(System.Globalization.CultureInfo.InvariantCulture))}");
        var csv = Path.Combine(_dir.FullName, "list.csv");
        File.WriteAllLines(csv, lines);
        var e = Assert.Throws<InvalidDataException>(() => ImageFiles.Csv(csv, Grey()));
        Assert.Contains($"'{csv}': 11 labels are class indices and 1 are names; 1 row(s) differ from the rest: '", e.Message);
        Assert.Contains($"0007.png' → 'shirt'", e.Message);
    }

    [Fact]
    public void NamedClassesAreSortedAndRgbFilesAreResizedAndConverted()
    {
        foreach (var (name, value) in new[] { ("dog", (byte)200), ("cat", (byte)50) })
        {
            var dir = Directory.CreateDirectory(Path.Combine(_dir.FullName, name));
            PngEncoder.Save(new PixelImage(10, 6, 3, Enumerable.Repeat(value, 180).ToArray()), Path.Combine(dir.FullName, "a.png"));
        }

        var loaded = ImageFiles.Folder(_dir.FullName, new ImageFileOptions { Format = new ImageInputFormat(4, 3, new[] { 0.5f, 0.5f, 0.5f }, new[] { 0.5f, 0.5f, 0.5f }) });
        Assert.Equal(new[] { "cat", "dog" }, loaded.ClassNames);
        var (pixels, labels) = SourceReading.ReadAll(loaded);
        Assert.Equal(new[] { 0, 1 }, labels);
        Assert.Equal(2 * 3 * 4 * 4, pixels.Length);
        Assert.All(pixels.Take(48), p => Assert.Equal(50, p));
    }
}
