// ImageFolder: finetune a timm DeiT checkpoint on a folder of JPEG/PNG images (one sub-folder per class)
// with a token-reduction method, evaluate it on a held-out fifth, and save the pipeline as a model zip.
// usage: dotnet run --project samples/ImageFolder -c Release -- FOLDER CONFIG.json WEIGHTS.safetensors
//        [--method full|idle|evit|life] [--keep-rate 0.7] [--epochs 3] [--image-size 224] [--output model.zip]
using Microsoft.ML.TokenIdle.Samples;

if (args.Length < 3)
{
    Console.Error.WriteLine("usage: ImageFolder FOLDER CONFIG.json WEIGHTS.safetensors [--method full|idle|evit|life] [--keep-rate K] [--epochs N] [--image-size S] [--output model.zip]");
    return 2;
}

string Option(string name, string fallback)
{
    var i = Array.IndexOf(args, name);
    return i >= 0 && i + 1 < args.Length ? args[i + 1] : fallback;
}

var options = new ImageFolderFinetuning.Settings(args[0], args[1], args[2])
{
    Method = Option("--method", "idle"),
    KeepRate = double.Parse(Option("--keep-rate", "0.7"), System.Globalization.CultureInfo.InvariantCulture),
    Epochs = int.Parse(Option("--epochs", "3"), System.Globalization.CultureInfo.InvariantCulture),
    ImageSize = int.Parse(Option("--image-size", "224"), System.Globalization.CultureInfo.InvariantCulture),
    Output = Option("--output", "model.zip"),
};
var result = ImageFolderFinetuning.Run(options, Console.WriteLine);
Console.WriteLine($"held-out accuracy {result.Accuracy:P1} (macro {result.MacroAccuracy:P1}), log-loss {result.LogLoss:F3}; saved {options.Output}");
return 0;
