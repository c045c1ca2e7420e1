using Microsoft.ML.TokenIdle.Training;

namespace TokenIdle.Cli.Commands;

/// <summary>
/// Training progress on standard error: a bar redrawn in place with loss, learning rate, throughput
/// (images trained and images decoded per second, time waiting for data) and ETA on a terminal, one line per tenth of an epoch when redirected to a file, and one line per
/// completed epoch (with its validation) either way.
/// </summary>
internal sealed class ConsoleProgressBar : IProgress<TrainingProgress>
{
    private const int Width = 24;
    private readonly TextWriter _writer;
    private readonly bool _interactive;
    private int _lastDecile = -1;

    public ConsoleProgressBar(TextWriter writer, bool interactive)
    {
        _writer = writer;
        _interactive = interactive;
    }

    /// <summary>The last report (the final epoch's mean training loss is read from it).</summary>
    public TrainingProgress? Latest { get; private set; }

    public void Report(TrainingProgress value)
    {
        Latest = value;
        var head = $"{(_interactive ? "\r" : string.Empty)}epoch {value.Epoch + 1}/{value.Epochs}";
        if (value.EpochCompleted)
        {
            var validation = value.Validation is { } v ? $", validation top-1 {v.Top1:P2} top-5 {v.Top5:P2} loss {v.Loss:F4}" : string.Empty;
            _writer.WriteLine($"{head} done: train loss {value.Loss:F4}, {value.ImagesPerSecond:F0} img/s trained, {Data(value)}{validation}, ETA {Format(value.Remaining)}");
            _lastDecile = -1;
            return;
        }

        var fraction = (double)(value.Step + 1) / value.StepsPerEpoch;
        var decile = (int)(fraction * 10);
        if (!_interactive && decile == _lastDecile)
        {
            return;
        }

        _lastDecile = decile;
        var filled = (int)Math.Round(fraction * Width);
        var line = $"{head} [{new string('#', filled)}{new string('-', Width - filled)}] {value.Step + 1}/{value.StepsPerEpoch} loss {value.Loss:F4} lr {value.LearningRate:E2} {value.ImagesPerSecond:F0} img/s trained, {Data(value)} ETA {Format(value.Remaining)}";
        if (_interactive)
        {
            _writer.Write(line.PadRight(120));
        }
        else
        {
            _writer.WriteLine(line);
        }
    }

    // Decoding capacity beside training speed, and how long the step waited for data: which of the two bounds the run.
    private static string Data(TrainingProgress p)
        => $"{(p.DataImagesPerSecond is { } rate ? $"{rate:F0} img/s decoded" : "images in memory")}, {p.DataWaitFraction:P0} waiting for data";

    private static string Format(TimeSpan t) => $"{(int)t.TotalHours}:{t.Minutes:D2}:{t.Seconds:D2}";
}
