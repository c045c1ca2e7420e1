using Microsoft.ML.TokenIdle.Training.Data;

namespace Microsoft.ML.TokenIdle.Tests.Training.Data;

/// <summary>Reads a whole pass of a source through the data pipeline, as training and evaluation do.</summary>
internal static class SourceReading
{
    /// <summary>Every readable row's planar bytes and label, in the pass's order (canonical for a null seed).</summary>
    public static (byte[] Pixels, int[] Labels) ReadAll(ImageSource source, int? seed = null, int workers = 2, int batchSize = 7)
    {
        var pixels = new List<byte>();
        var labels = new List<int>();
        using var batches = new BatchReader(source, source.Order(seed), 0, batchSize, dropLast: false, new DataPipelineOptions { Workers = workers, PrefetchBatches = 2 });
        for (var batch = batches.Next(); batch is not null; batch = batches.Next())
        {
            using var images = batch.ToTensor(TorchSharp.torch.CPU);
            var f = source.Format;
            var bytes = ((images * TorchSharp.torch.tensor(f.Std).view(1, -1, 1, 1) + TorchSharp.torch.tensor(f.Mean).view(1, -1, 1, 1)) * 255).round().to(TorchSharp.torch.ScalarType.Byte);
            pixels.AddRange(bytes.data<byte>().ToArray());
            labels.AddRange(batch.Labels);
        }

        return (pixels.ToArray(), labels.ToArray());
    }
}
