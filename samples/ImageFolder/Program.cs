// ImageFolder: finetune a timm DeiT checkpoint on a folder of JPEG/PNG images (one sub-folder per class)
// with a token-reduction method, evaluate it on a held-out fifth, and save the pipeline as a model zip.
// usage: dotnet run --project samples/ImageFolder -c Release -- FOLDER CONFIG.json WEIGHTS.safetensors
//        [--method full|idle|evit|life] [--keep-rate 0.7] [--epochs 3] [--image-size S] [--batch-size 16] [--output model.zip]
// --image-size defaults to the checkpoint's own size (its config's img_size), as the trainers do.
using System.Globalization;
using Microsoft.ML.TokenIdle.Samples;

const string Usage = "usage: ImageFolder FOLDER CONFIG.json WEIGHTS.safetensors [--method full|idle|evit|life] [--keep-rate K] [--epochs N] [--image-size S] [--batch-size B] [--output model.zip]";
if (args.Length == 0)
{
    Console.Error.WriteLine(Usage);
    return 2;
}

try
{
    var settings = SampleArguments.Parse(args);
    var result = ImageFolderFinetuning.Run(settings, Console.WriteLine);
    Console.WriteLine($"held-out accuracy {result.Accuracy:P1} (macro {result.MacroAccuracy:P1}), log-loss {result.LogLoss:F3}; saved {settings.Output}");
    return 0;
}
catch (Exception e) when (e is ArgumentException or IOException or InvalidDataException or UnauthorizedAccessException or InsufficientMemoryException or InvalidOperationException)
{
    // Bad arguments and the library's refusals (missing files, bad checkpoints, a run that would not fit in memory): one line.
    Console.Error.WriteLine($"ImageFolder: error: {e.Message}");
    return 1;
}

/// <summary>The sample's command line: three positional arguments, then flags with values.</summary>
internal static class SampleArguments
{
    public static ImageFolderFinetuning.Settings Parse(string[] args)
    {
        var positional = new List<string>();
        var flags = new Dictionary<string, string>(StringComparer.Ordinal);
        string[] known = ["--method", "--keep-rate", "--epochs", "--image-size", "--batch-size", "--output"];
        for (var i = 0; i < args.Length; i++)
        {
            if (!args[i].StartsWith("--", StringComparison.Ordinal))
            {
                positional.Add(args[i]);
            }
            else if (!known.Contains(args[i]))
            {
                throw new ArgumentException($"unknown flag {args[i]}");
            }
            else if (i + 1 >= args.Length)
            {
                throw new ArgumentException($"{args[i]} needs a value");
            }
            else
            {
                flags[args[i]] = args[++i];
            }
        }

        if (positional.Count != 3)
        {
            throw new ArgumentException($"expected FOLDER CONFIG.json WEIGHTS.safetensors, got {positional.Count} arguments");
        }

        if (!Directory.Exists(positional[0]))
        {
            throw new ArgumentException($"image folder '{positional[0]}' does not exist");
        }

        var defaults = new ImageFolderFinetuning.Settings(positional[0], positional[1], positional[2]);
        return defaults with
        {
            Method = flags.GetValueOrDefault("--method", defaults.Method),
            KeepRate = Number(flags, "--keep-rate", double.Parse, defaults.KeepRate),
            Epochs = Number(flags, "--epochs", int.Parse, defaults.Epochs),
            ImageSize = flags.ContainsKey("--image-size") ? Number(flags, "--image-size", int.Parse, 0) : null,
            BatchSize = Number(flags, "--batch-size", int.Parse, defaults.BatchSize),
            Output = flags.GetValueOrDefault("--output", defaults.Output),
        };
    }

    private static T Number<T>(Dictionary<string, string> flags, string flag, Func<string, IFormatProvider, T> parse, T fallback)
    {
        if (!flags.TryGetValue(flag, out var text))
        {
            return fallback;
        }

        try
        {
            return parse(text, CultureInfo.InvariantCulture);
        }
        catch (Exception e) when (e is FormatException or OverflowException)
        {
            throw new ArgumentException($"{flag} '{text}' is not a number");
        }
    }
}
