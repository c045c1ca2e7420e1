using Microsoft.ML.TokenIdle.Imaging;
using Microsoft.ML.TokenIdle.Training.Data;

namespace Microsoft.ML.TokenIdle.Tests.Training.Data;

/// <summary>The data pipeline's order, determinism, window and cache, on real PNG files.</summary>
public sealed class DataPipelineTests : IDisposable
{
    private readonly DirectoryInfo _dir = Directory.CreateTempSubdirectory("pipeline-data");

    public void Dispose() => _dir.Delete(recursive: true);

    private ImageFileSource Folder(long cacheBytes) => ImageFiles.Folder(_dir.FullName, new ImageFileOptions
    {
        Format = new ImageInputFormat(28, 1, new[] { 0.2860f }, new[] { 0.3530f }), Classes = 10, CacheBudgetBytes = cacheBytes,
    });

    [Fact]
    public void EveryWorkerCountAndTheCacheGiveTheSameBatchesAndEachSeedItsOwnOrder()
    {
        ImageFilesTests.WriteFolder(_dir.FullName, 60);
        var streamed = Folder(0);
        Assert.False(streamed.Cached);
        var reference = SourceReading.ReadAll(streamed, seed: 5, workers: 1);
        Assert.Equal(60, reference.Labels.Length);
        Same(reference, SourceReading.ReadAll(streamed, seed: 5, workers: 3));

        var cached = Folder(1L << 20);
        Assert.True(cached.Cached);
        Same(reference, SourceReading.ReadAll(cached, seed: 5, workers: 2));
        Same(reference, SourceReading.ReadAll(cached, seed: 5, workers: 2)); // the second pass reads memory only

        var other = SourceReading.ReadAll(streamed, seed: 6, workers: 2);
        Assert.NotEqual(reference.Labels, other.Labels);
        Assert.Equal(reference.Labels.Order(), other.Labels.Order());
        Assert.Equal(SourceReading.ReadAll(streamed).Labels, streamed.Order(null).Labels);
    }

    [Fact]
    public void WorkersReadNoFurtherAheadThanTheWindowHowSlowlyTheConsumerTakes()
    {
        const int window = 8;
        var (outstanding, most) = (0, 0);
        using var reader = RowReader.Indexed(rank =>
        {
            var now = Interlocked.Increment(ref outstanding);
            InterlockedMax(ref most, now);
            return new SourceRow(rank, 0, new byte[1], null, null);
        }, 0, 500, window, workers: 4);
        for (var rank = 0; reader.TryNext(out var row); rank++)
        {
            Assert.Equal(rank, row.Key);
            Interlocked.Decrement(ref outstanding);
            if (rank % 50 == 0)
            {
                Thread.Sleep(20);
            }
        }

        Assert.InRange(most, 1, window + 4);
    }

    [Fact]
    public void ASplitHoldsOutSeededDisjointRowsAndATakeTheFirstOnesWithoutDecoding()
    {
        ImageFilesTests.WriteFolder(_dir.FullName, 40);
        var source = Folder(0);
        var (rest, held) = source.Split(0.25, seed: 9);
        Assert.Equal((30, 10), (rest.Count, held.Count));
        Assert.Empty(rest.Order(null).Keys.Intersect(held.Order(null).Keys));
        Assert.Equal(held.Order(null).Keys, source.Split(0.25, seed: 9).HeldOut.Order(null).Keys);
        Assert.Equal(rest.Order(null).Keys.Order(), rest.Order(4).Keys.Order());
        Assert.Equal(Enumerable.Range(0, 7), source.Take(7).Order(null).Keys);
        Assert.Equal(7, SourceReading.ReadAll(source.Take(7)).Labels.Length);
    }

    private static void Same((byte[] Pixels, int[] Labels) expected, (byte[] Pixels, int[] Labels) actual)
    {
        Assert.Equal(expected.Labels, actual.Labels);
        Assert.True(expected.Pixels.AsSpan().SequenceEqual(actual.Pixels), "the pixels differ");
    }

    private static void InterlockedMax(ref int target, int value)
    {
        for (var seen = Volatile.Read(ref target); value > seen; seen = Volatile.Read(ref target))
        {
            if (Interlocked.CompareExchange(ref target, value, seen) == seen)
            {
                return;
            }
        }
    }
}
