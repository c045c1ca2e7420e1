// A user's application of the Microsoft.ML.TokenIdle package (eng/package/test-package.sh builds and publishes it):
//   train DATA MODEL.zip SCORES.json   finetune IdleViT k = 0.7 in an ML.NET pipeline, evaluate, save the zip and the test scores
//   score MODEL.zip DATA SCORES.json   in another process: load the zip, score the test split, compare with the saved scores
// Built with WithMLNetTorchSharp=true it also references Microsoft.ML.TorchSharp and builds its TextClassification
// estimator beside ours (fitting it would download a model). Errors print as one line, as a service would log them.
using System.Text.Json;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.TokenIdle;
#if MLNET_TORCHSHARP
using Microsoft.ML.TorchSharp;
#endif

try
{
    return args switch
    {
        ["train", var data, var zip, var scores] => Train(data, zip, scores),
        ["score", var zip, var data, var scores] => Score(zip, data, scores),
        _ => throw new ArgumentException("usage: Consumer train DATA MODEL.zip SCORES.json | score MODEL.zip DATA SCORES.json"),
    };
}
catch (Exception e)
{
    Console.Error.WriteLine($"consumer: error: {e.Message}");
    return 1;
}

static int Train(string data, string zip, string scoresPath)
{
    var ml = new MLContext(seed: 1);
    var train = ml.Data.LoadImagesFromFolder(Path.Combine(data, "train"));
    var test = ml.Data.LoadImagesFromFolder(Path.Combine(data, "test"));
    var pipeline = ml.Transforms.Conversion.MapValueToKey("Label")
        .Append(ml.Transforms.LoadImages("Image", imageFolder: null, "ImagePath"))
        .Append(ml.MulticlassClassification.Trainers.TokenIdleImageClassification(new TokenIdleImageClassificationTrainer.Options
        {
            Backbone = Backbone.FashionMnist,
            MaxEpoch = 1,
            BatchSize = 50,
            TokenReduction = { KeepRatio = 0.7 },
        }))
        .Append(ml.Transforms.Conversion.MapKeyToValue("PredictedName", "PredictedLabel"));
    var model = pipeline.Fit(train);
    var metrics = ml.MulticlassClassification.Evaluate(model.Transform(test));
    Console.WriteLine($"IdleViT k = 0.7 on Microsoft.ML {Informational(typeof(MLContext))}: accuracy {metrics.MicroAccuracy:F4}");
    if (metrics.MicroAccuracy < 0.6)
    {
        throw new InvalidOperationException($"accuracy {metrics.MicroAccuracy:F4} on the sample test images is below 0.6");
    }

    ml.Model.Save(model, train.Schema, zip);
    File.WriteAllText(scoresPath, JsonSerializer.Serialize(Scores(ml, model, test)));
#if MLNET_TORCHSHARP
    BesideMicrosoftMLTorchSharp(ml);
#endif
    return 0;
}

static int Score(string zip, string data, string scoresPath)
{
    var ml = new MLContext(seed: 2);
    var model = ml.Model.Load(zip, out _);
    var actual = Scores(ml, model, ml.Data.LoadImagesFromFolder(Path.Combine(data, "test")));
    var expected = JsonSerializer.Deserialize<float[][]>(File.ReadAllText(scoresPath))!;
    if (actual.Length != expected.Length)
    {
        throw new InvalidOperationException($"{actual.Length} rows scored, {expected.Length} expected");
    }

    var worst = 0.0;
    for (var row = 0; row < actual.Length; row++)
    {
        for (var c = 0; c < actual[row].Length; c++)
        {
            worst = Math.Max(worst, Math.Abs(actual[row][c] - expected[row][c]));
        }
    }

    Console.WriteLine($"{actual.Length} images scored by a second process: largest score difference {worst:G3}");
    if (worst > 1e-6)
    {
        throw new InvalidOperationException($"the loaded model's scores differ from the trained one's by {worst:G3} (> 1e-6)");
    }

    return 0;
}

static float[][] Scores(MLContext ml, ITransformer model, IDataView data)
    => model.Transform(data).GetColumn<VBuffer<float>>("Score").Select(s => s.DenseValues().ToArray()).ToArray();

static string Informational(Type type)
    => (type.Assembly.GetCustomAttributes(typeof(System.Reflection.AssemblyInformationalVersionAttribute), false).FirstOrDefault() as System.Reflection.AssemblyInformationalVersionAttribute)?.InformationalVersion.Split('+')[0] ?? "?";

#if MLNET_TORCHSHARP
// Microsoft.ML.TorchSharp's catalog in the same context: its estimator is built (fitting it would download a model),
// and the TorchSharp it was compiled against binds to the one our trainer already runs on: one TorchSharp in the process.
static void BesideMicrosoftMLTorchSharp(MLContext ml)
{
    var estimator = ml.MulticlassClassification.Trainers.TextClassification(labelColumnName: "Label", sentence1ColumnName: "Sentence", maxEpochs: 1);
    var theirs = System.Reflection.Assembly.Load(estimator.GetType().Assembly.GetReferencedAssemblies().Single(a => a.Name == "TorchSharp"));
    var loaded = AppDomain.CurrentDomain.GetAssemblies().Where(a => a.GetName().Name == "TorchSharp").ToList();
    if (loaded.Count != 1 || theirs != loaded[0])
    {
        throw new InvalidOperationException($"expected one TorchSharp shared by both libraries, found {loaded.Count} loaded");
    }

    Console.WriteLine($"Microsoft.ML.TorchSharp {Informational(estimator.GetType())}: {estimator.GetType().Name} built beside ours; one TorchSharp {theirs.GetName().Version} in the process");
}
#endif
