using System.IO.Compression;
using Microsoft.ML.TokenIdle.Serialization;
using Microsoft.ML.TokenIdle.Training.Data;

namespace Microsoft.ML.TokenIdle.Tests.Training.Data;

public class IdxFileTests
{
    [Fact]
    public void ReadsPlainAndGzippedFilesAndNamesBadOnes()
    {
        var dir = Directory.CreateTempSubdirectory("idx").FullName;
        try
        {
            byte[] bytes = { 0, 0, 8, 2, 0, 0, 0, 2, 0, 0, 0, 3, 1, 2, 3, 4, 5, 6 };
            File.WriteAllBytes(Path.Combine(dir, "a.idx"), bytes);
            using (var gz = new GZipStream(File.Create(Path.Combine(dir, "a.idx.gz")), CompressionLevel.Fastest))
            {
                gz.Write(bytes);
            }

            foreach (var name in new[] { "a.idx", "a.idx.gz" })
            {
                var (shape, data) = IdxFile.ReadBytes(Path.Combine(dir, name));
                Assert.Equal(new[] { 2, 3 }, shape);
                Assert.Equal(new byte[] { 1, 2, 3, 4, 5, 6 }, data);
            }

            File.WriteAllBytes(Path.Combine(dir, "short.idx"), bytes[..15]);
            var e = Assert.Throws<InvalidDataException>(() => IdxFile.ReadBytes(Path.Combine(dir, "short.idx")));
            Assert.Contains("short.idx' ends inside its data (3 of 6 bytes)", e.Message);
            File.WriteAllBytes(Path.Combine(dir, "float.idx"), new byte[] { 0, 0, 0x0D, 1, 0, 0, 0, 1, 0, 0, 0, 0 });
            e = Assert.Throws<InvalidDataException>(() => IdxFile.ReadBytes(Path.Combine(dir, "float.idx")));
            Assert.Contains("not an unsigned-byte IDX file", e.Message);
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }

    [Fact]
    public void FashionMnistLoadsPaddedAndNormalised()
    {
        var test = FashionMnist.Load("test");
        Assert.Equal(10_000, test.Count);
        Assert.Equal((1, 32), (test.Format.Channels, test.Format.Size));
        Assert.Equal(Enumerable.Repeat(1000, 10), test.Labels.GroupBy(l => l).OrderBy(g => g.Key).Select(g => g.Count()));
        using var reader = new BatchReader(test, test.Order(null), 0, 1, dropLast: false, new DataPipelineOptions());
        var image = reader.Next()!.ToTensor(TorchSharp.torch.CPU);
        NumericBounds.Within(nameof(NumericBounds.SmallComputation), Math.Abs(-0.286 / 0.353 - image[0, 0, 0, 0].item<float>()), NumericBounds.SmallComputation, "a black pixel normalised in float32");
        Assert.True(image.max().item<float>() > 1f);
    }

    [Fact]
    public void MissingFilesSayWhichPackageInstallsThem()
    {
        var e = Assert.Throws<FileNotFoundException>(() => FashionMnist.Load("train", "/nonexistent"));
        Assert.Contains("apt-get install dataset-fashion-mnist", e.Message);
    }
}
