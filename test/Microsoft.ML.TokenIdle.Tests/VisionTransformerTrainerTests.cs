using Microsoft.ML.Data;
using Microsoft.ML.TokenIdle.Models;
using Microsoft.ML.TokenIdle.Models.TokenReduction;
using Microsoft.ML.TokenIdle.Nn;
using Microsoft.ML.TokenIdle.Training;

namespace Microsoft.ML.TokenIdle.Tests;

/// <summary>The trainers between ML.NET's own transforms on real Fashion-MNIST images written as PNG files, with a tiny ViT.</summary>
public sealed class VisionTransformerTrainerTests : IClassFixture<ImagePipelineData>
{
    private readonly ImagePipelineData _data;

    public VisionTransformerTrainerTests(ImagePipelineData data) => _data = data;

    public sealed class Prediction
    {
        public float[] Score { get; set; } = Array.Empty<float>();

        public uint PredictedLabel { get; set; }

        public string PredictedName { get; set; } = string.Empty;
    }

    public sealed class KeyRow
    {
        public uint Label { get; set; }
    }

    [Fact]
    public void AFullPipelineTrainsScoresAndEvaluatesWithMlNetsColumns()
    {
        var context = new MLContext(seed: 1);
        var log = new List<string>();
        context.Log += (_, e) => log.Add(e.Message);
        var callbacks = new List<TrainMetrics>();
        var (train, test) = _data.Data(context);
        var options = _data.Recipe(new VisionTransformerTrainer.Options { MetricsCallback = callbacks.Add });
        var pipeline = _data.Prepare(context)
            .Append(context.MulticlassClassification.Trainers.VisionTransformer(options))
            .Append(context.Transforms.Conversion.MapKeyToValue("PredictedName", "PredictedLabel"));
        var model = pipeline.Fit(train);
        var scored = model.Transform(test);

        var score = scored.Schema["Score"];
        Assert.Equal("Vector<Single, 10>", score.Type.ToString());
        VBuffer<ReadOnlyMemory<char>> slots = default;
        score.GetSlotNames(ref slots);
        Assert.Equal(Enumerable.Range(0, 10).Select(i => "class" + i).Order(), slots.DenseValues().Select(s => s.ToString()).Order());
        var kind = ReadOnlyMemory<char>.Empty;
        score.Annotations.GetValue("ScoreColumnKind", ref kind);
        Assert.Equal("MulticlassClassification", kind.ToString());
        Assert.Equal("Key<UInt32, 0-9>", scored.Schema["PredictedLabel"].Type.ToString());

        var predictions = context.Data.CreateEnumerable<Prediction>(scored, false).ToList();
        Assert.Equal(test.GetColumn<string>("Label").Count(), predictions.Count);
        foreach (var p in predictions)
        {
            Assert.Equal(1.0, p.Score.Sum(), NumericBounds.SmallComputation);
            Assert.Equal((uint)Array.IndexOf(p.Score, p.Score.Max()) + 1, p.PredictedLabel);
            Assert.Equal(slots.DenseValues().ElementAt((int)p.PredictedLabel - 1).ToString(), p.PredictedName);
        }

        // ML.NET's own evaluator reads our columns.
        var metrics = context.MulticlassClassification.Evaluate(scored, topKPredictionCount: 3);
        var labels = context.Data.CreateEnumerable<KeyRow>(scored, false, ignoreMissingColumns: true).Select(r => r.Label).ToList();
        Assert.Equal(predictions.Zip(labels).Count(p => p.First.PredictedLabel == p.Second) / (double)predictions.Count, metrics.MicroAccuracy, 1e-12);
        Assert.True(metrics.MicroAccuracy > 0.2, $"accuracy {metrics.MicroAccuracy} after two epochs on 120 images");
        Assert.True(metrics.TopKAccuracy >= metrics.MicroAccuracy);
        Assert.Equal(10, metrics.ConfusionMatrix.NumberOfClasses);
        Assert.Contains(log, m => m.StartsWith("[Source=VisionTransformerTrainer; Training, Kind=Info] Epoch 1:", StringComparison.Ordinal));
        Assert.Contains(callbacks, c => c.Epoch == 1 && c.ImagesPerSecond > 0);
        Assert.Contains("Phase: Training, Dataset used:", callbacks[0].ToString());
    }

    [Theory]
    [InlineData("evit-fuse")]
    [InlineData("life")]
    public void EachMethodTrainsThroughItsCatalogEntry(string method)
    {
        var context = new MLContext(seed: 2);
        var (train, test) = _data.Data(context);
        IEstimator<VisionTransformerClassifier> trainer = method == "life"
            ? context.MulticlassClassification.Trainers.LifeRegressionSlimming(_data.Recipe(new LifeRegressionSlimmingTrainer.Options { TokenReduction = { KeepRatio = 0.5 }, MaxEpoch = 1 }))
            : context.MulticlassClassification.Trainers.TokenReorganizationImageClassification(_data.Recipe(new TokenReorganizationImageClassificationTrainer.Options { TokenReduction = { KeepRatio = 0.5 } }));
        var model = _data.Prepare(context).Append(trainer).Fit(train);
        var classifier = model.OfType<VisionTransformerClassifier>().Single();
        Assert.Equal(method, classifier.Method);
        var metrics = context.MulticlassClassification.Evaluate(model.Transform(test));
        Assert.InRange(metrics.MicroAccuracy, 0, 1);
        Assert.True(double.IsFinite(metrics.LogLoss));
    }

    [Fact]
    public void TheShortOverloadsPassTheirArgumentsAndDefaultToDeitSmall()
    {
        var context = new MLContext(seed: 1);
        var (train, _) = _data.Data(context);
        var trainers = context.MulticlassClassification.Trainers;

        // No backbone named: the papers' DeiT-S from the Hub (HubCheckpointTests fetch it from a loopback hub).
        var full = (VisionTransformerTrainer.Options)trainers.VisionTransformer(scoreColumnName: "Probabilities", predictedLabelColumnName: "Guess", batchSize: 7, maxEpochs: 0).Settings;
        Assert.Equal(("Probabilities", "Guess", 7, 0), (full.ScoreColumnName, full.PredictedLabelColumnName, full.BatchSize, full.MaxEpoch));
        Assert.Null(full.Backbone);
        Assert.Equal(Backbone.HubModel("timm/deit_small_patch16_224.fb_in1k"), full.ChosenBackbone());

        // The embedded Fashion-MNIST ViT by its name, scored as it is (MaxEpoch 0): no file is needed.
        var embedded = _data.Prepare(context).Append(trainers.VisionTransformer(new VisionTransformerTrainer.Options { Backbone = Backbone.FashionMnist, MaxEpoch = 0, BatchSize = 7 })).Fit(train);
        var classifier = embedded.OfType<VisionTransformerClassifier>().Single();
        Assert.Equal(VisionTransformerConfig.Load(PretrainedModels.FashionMnist().ConfigPath).EmbedDim, classifier.Model.Config.EmbedDim);

        var idle = (TokenIdleImageClassificationTrainer)trainers.TokenIdleImageClassification(keepRatio: 0.7f, cutLossWeight: 2f, labelColumnName: "L", imageColumnName: "I", batchSize: 5, maxEpochs: 4);
        var idleOptions = (TokenIdleImageClassificationTrainer.Options)idle.Settings;
        Assert.Equal((0.7, 2.0, "L", "I", 5, 4), (idleOptions.TokenReduction.KeepRatio, idleOptions.CutLossWeight, idleOptions.LabelColumnName, idleOptions.ImageColumnName, idleOptions.BatchSize, idleOptions.MaxEpoch));
        var evit = (TokenReorganizationImageClassificationTrainer.Options)trainers.TokenReorganizationImageClassification(keepRatio: 0.5f, fuseInattentive: false).Settings;
        Assert.Equal((0.5, false), (evit.TokenReduction.KeepRatio, evit.TokenReduction.FuseInattentive));

        // The older names still work: EViT's keepRate parameter and the options' KeepRate.
#pragma warning disable CS0618
        var older = (TokenReorganizationImageClassificationTrainer.Options)trainers.TokenReorganizationImageClassification(keepRate: 0.6f).Settings;
        Assert.Equal((0.6, 0.6), (older.TokenReduction.KeepRatio, older.TokenReduction.KeepRate));
#pragma warning restore CS0618
        var life = (LifeRegressionSlimmingTrainer.Options)trainers.LifeRegressionSlimming(keepRatio: 0.9f).Settings;
        Assert.Equal(0.9, life.TokenReduction.KeepRatio);
    }

    [Fact]
    public void AHeldOutFractionValidatesAndEarlyStoppingEndsTheRun()
    {
        var context = new MLContext(seed: 1);
        var log = new List<string>();
        context.Log += (_, e) => log.Add(e.RawMessage);
        var (train, _) = _data.Data(context);
        var options = _data.Recipe(new VisionTransformerTrainer.Options
        {
            ValidationSetFraction = 0.25, EarlyStoppingCriteria = new EarlyStopping(MinDelta: 1.0, Patience: 1),
        });
        options.MaxEpoch = 5;
        _data.Prepare(context).Append(context.MulticlassClassification.Trainers.VisionTransformer(options)).Fit(train);
        var held = (int)Math.Round(train.GetColumn<string>("Label").Count() * 0.25);
        Assert.Contains($"holding out {held} of the training rows for validation", log);
        Assert.Contains("stopped early after 2 of 5 epochs: validation did not improve", log);
        Assert.Contains(log, m => m.StartsWith("Accuracy for epoch 1:", StringComparison.Ordinal));
    }

    [Fact]
    public void SchemaAndDeviceErrorsAreMlNetsMessages()
    {
        var context = new MLContext(seed: 1);
        var (train, _) = _data.Data(context);
        var trainer = context.MulticlassClassification.Trainers.VisionTransformer(_data.Recipe(new VisionTransformerTrainer.Options()));
        var unkeyed = context.Transforms.LoadImages("Image", _data.Images, "ImagePath").Append(trainer);
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => unkeyed.Fit(train));
        Assert.StartsWith("Schema mismatch for label column 'Label': expected Key (use MapValueToKey), got String", e.Message);

        var noImage = context.Transforms.Conversion.MapValueToKey("Label").Append(trainer);
        Assert.StartsWith("Could not find image column 'Image'", Assert.Throws<ArgumentOutOfRangeException>(() => noImage.Fit(train)).Message);
        var noLabel = _data.Prepare(context).Append(context.MulticlassClassification.Trainers.VisionTransformer(labelColumnName: "Class"));
        Assert.StartsWith("Could not find label column 'Class'", Assert.Throws<ArgumentOutOfRangeException>(() => noLabel.Fit(train)).Message);

        var textImage = context.Transforms.Conversion.MapValueToKey("Label").Append(context.Transforms.CopyColumns("Image", "ImagePath")).Append(trainer);
        Assert.StartsWith("Schema mismatch for image column 'Image': expected Image, Vector<Byte> (encoded image) or a known-size Vector<Single> (normalised input), got String", Assert.Throws<ArgumentOutOfRangeException>(() => textImage.Fit(train)).Message);

        // An unreadable image names its file: ML.NET's loader says only "Invalid input stream contents".
        File.WriteAllText(Path.Combine(_data.Images, "0", "broken.png"), "not a png");
        try
        {
            var rows = context.Data.LoadFromEnumerable(new[] { new ImagePipelineData.ImageRow { ImagePath = Path.Combine("0", "broken.png"), Label = "class0" } });
            var broken = Assert.Throws<InvalidDataException>(() => _data.Prepare(context).Append(trainer).Fit(rows));
            Assert.Contains("image column 'Image', row 0 (ImagePath: '0/broken.png'): ", broken.Message);
        }
        finally
        {
            File.Delete(Path.Combine(_data.Images, "0", "broken.png"));
        }

        context.GpuDeviceId = 0;
        var gpu = Assert.Throws<InvalidOperationException>(() => _data.Prepare(context).Append(trainer).Fit(train));
        Assert.StartsWith("Fallback to CPU is false but no GPU detected", gpu.Message);
        var device = Assert.Throws<ArgumentException>(() => _data.Prepare(context).Append(context.MulticlassClassification.Trainers.VisionTransformer(_data.Recipe(new VisionTransformerTrainer.Options { Device = "tpu" }))).Fit(train));
        Assert.Contains("device 'tpu' is not one of cpu, cuda, cuda:N", device.Message);

        // Precision is settled before anything trains: an undefined value, or HalfPrecision beside another precision.
        context.GpuDeviceId = null;
        Exception PrecisionError(VisionTransformerTrainer.Options options)
            => Assert.ThrowsAny<Exception>(() => _data.Prepare(context).Append(context.MulticlassClassification.Trainers.VisionTransformer(_data.Recipe(options))).Fit(train));
        Assert.Contains("Precision 7 is not Float32, BFloat16 or Float16", PrecisionError(new VisionTransformerTrainer.Options { Precision = (Precision)7 }).Message);
#pragma warning disable CS0618 // the older spelling of float16 is still read
        Assert.Contains("HalfPrecision = true asks for float16, Precision = BFloat16 for another: give one", PrecisionError(new VisionTransformerTrainer.Options { HalfPrecision = true, Precision = Precision.BFloat16 }).Message);
#pragma warning restore CS0618
    }

    [Fact]
    public void AGpuRequestFallsBackToTheCpuWhenAllowed()
    {
        var context = new MLContext(seed: 1) { GpuDeviceId = 0, FallbackToCpu = true };
        var log = new List<string>();
        context.Log += (_, e) => log.Add(e.Message);
        var (train, _) = _data.Data(context);
        _data.Prepare(context).Append(context.MulticlassClassification.Trainers.VisionTransformer(_data.Recipe(new VisionTransformerTrainer.Options { MaxEpoch = 1 }))).Fit(train);
        Assert.Contains(log, m => m.Contains("Kind=Warning] cuda:0 was requested but libtorch has no CUDA device; falling back to the CPU", StringComparison.Ordinal));
    }

    [Fact]
    public void PretrainedWeightsForOtherClassesGetANewHead()
    {
        var context = new MLContext(seed: 1);
        var log = new List<string>();
        context.Log += (_, e) => log.Add(e.RawMessage);
        var (train, _) = _data.Data(context);
        var weights = Path.Combine(_data.Root, "pretrained.safetensors");
        new VisionTransformer(VisionTransformerConfig.Load(_data.ConfigPath) with { NumClasses = 4 }, seed: 9).SaveWeights(weights);
        var options = _data.Recipe(new VisionTransformerTrainer.Options { MaxEpoch = 1 }, weights);
        var model = _data.Prepare(context).Append(context.MulticlassClassification.Trainers.VisionTransformer(options)).Fit(train);
        Assert.Contains(log, m => m.Contains("has a head for 4 classes; training a new head for 10", StringComparison.Ordinal));
        Assert.Equal(10, model.LastTransformer.Model.Config.NumClasses);
    }
}
