using Microsoft.ML.TokenIdle.Models.TokenReduction;
using Microsoft.ML.TokenIdle.Pipeline;
using Microsoft.ML.TokenIdle.Pipeline.Data;
using Microsoft.ML.TokenIdle.Pipeline.Trainers;

namespace Microsoft.ML.TokenIdle.Tests.Pipeline.Trainers;

/// <summary>The trainers in an ML.NET-style pipeline on real Fashion-MNIST images written as PNG files, with a tiny ViT.</summary>
public sealed class VisionTransformerTrainerTests : IClassFixture<PipelineTestData>
{
    private readonly PipelineTestData _data;

    public VisionTransformerTrainerTests(PipelineTestData data) => _data = data;

    public sealed class Prediction
    {
        public float[] Score { get; set; } = Array.Empty<float>();

        public uint PredictedLabel { get; set; }

        public string PredictedName { get; set; } = string.Empty;
    }

    private (IDataView Train, IDataView Test) Data(MLContext context) => _data.Data(context);

    private IEstimator<ITransformer> Prepare(MLContext context) => _data.Prepare(context);

    private T Recipe<T>(T options)
        where T : VisionTransformerTrainerOptions => _data.Recipe(options);

    [Fact]
    public void AFullPipelineTrainsScoresAndEvaluatesWithMlNetsColumns()
    {
        var context = new MLContext(seed: 1);
        var log = new List<string>();
        context.Log += (_, e) => log.Add(e.Message);
        var callbacks = new List<TrainMetrics>();
        var (train, test) = Data(context);
        var options = Recipe(new VisionTransformerTrainerOptions { MetricsCallback = callbacks.Add, ValidationSet = null });
        var pipeline = Prepare(context)
            .Append(context.MulticlassClassification.Trainers.VisionTransformer(options))
            .Append(context.Transforms.Conversion.MapKeyToValue("PredictedName", "PredictedLabel"));
        var model = pipeline.Fit(train);
        var scored = model.Transform(test);

        var score = scored.Schema["Score"];
        Assert.Equal("Vector<Single, 10>", score.Type.ToString());
        VBuffer<ReadOnlyMemory<char>> slots = default;
        score.Annotations.GetValue(AnnotationKinds.SlotNames, ref slots);
        Assert.Equal(Enumerable.Range(0, 10).Select(i => "class" + i).Order(), slots.DenseValues().Select(s => s.ToString()).Order());
        var kind = ReadOnlyMemory<char>.Empty;
        score.Annotations.GetValue(AnnotationKinds.ScoreColumnKind, ref kind);
        Assert.Equal("MulticlassClassification", kind.ToString());
        Assert.Equal("Key<UInt32, 0-9>", scored.Schema["PredictedLabel"].Type.ToString());

        var predictions = context.Data.CreateEnumerable<Prediction>(scored, false).ToList();
        Assert.Equal(40, predictions.Count);
        foreach (var p in predictions)
        {
            Assert.Equal(1.0, p.Score.Sum(), 4);
            Assert.Equal((uint)Array.IndexOf(p.Score, p.Score.Max()) + 1, p.PredictedLabel);
            Assert.Equal(slots.DenseValues().ElementAt((int)p.PredictedLabel - 1).ToString(), p.PredictedName);
        }

        var metrics = context.MulticlassClassification.Evaluate(scored, topKPredictionCount: 3);
        var labels = context.Data.CreateEnumerable<KeyRow>(scored, false, ignoreMissingColumns: true).Select(r => r.Label).ToList();
        Assert.Equal(predictions.Zip(labels).Count(p => p.First.PredictedLabel == p.Second) / 40.0, metrics.MicroAccuracy, 9);
        Assert.True(metrics.MicroAccuracy > 0.2, $"accuracy {metrics.MicroAccuracy} after two epochs on 120 images");
        Assert.True(metrics.TopKAccuracy >= metrics.MicroAccuracy);
        Assert.Contains(log, m => m.StartsWith("[Source=VisionTransformerTrainer, Kind=Info] Epoch 1:", StringComparison.Ordinal));
        Assert.Contains(callbacks, c => c.Epoch == 1 && c.ImagesPerSecond > 0);
        Assert.Contains("Phase: Training, Dataset used:", callbacks[0].ToString());
    }

    public sealed class KeyRow
    {
        public uint Label { get; set; }
    }

    [Fact]
    public void BatchedTransformAndSingleRowMappingGiveTheSameScores()
    {
        var context = new MLContext(seed: 1);
        var (train, test) = Data(context);
        var options = Recipe(new TokenIdleImageClassificationOptions { KeepRatio = 0.5, MaxEpoch = 1 });
        options.BatchSize = 7;
        var model = Prepare(context).Append(context.MulticlassClassification.Trainers.TokenIdleImageClassification(options)).Fit(train);
        var classifier = model.LastTransformer;
        Assert.Equal("idle", classifier.Method);
        Assert.IsType<TokenIdling>(classifier.Strategy!.Reduction);

        var batched = context.Data.CreateEnumerable<Prediction>(model.Transform(test), false, ignoreMissingColumns: true).Select(p => p.Score).ToList();
        var mapper = model.GetRowToRowMapper(test.Schema);
        var single = new List<float[]>();
        using (var cursor = test.GetRowCursor(test.Schema))
        {
            var row = mapper.GetRow(cursor, new[] { mapper.OutputSchema["Score"] });
            var getter = row.GetGetter<VBuffer<float>>(mapper.OutputSchema["Score"]);
            VBuffer<float> value = default;
            while (cursor.MoveNext())
            {
                getter(ref value);
                single.Add(value.ToArray());
            }
        }

        Assert.Equal(batched.Count, single.Count);
        for (var i = 0; i < single.Count; i++)
        {
            for (var c = 0; c < 10; c++)
            {
                Assert.Equal(single[i][c], batched[i][c], 5);
            }
        }
    }

    public sealed class Masked
    {
        public float[] TokenMask { get; set; } = Array.Empty<float>();
    }

    [Fact]
    public void TheTokenMaskColumnShowsWhatEachReducingLayerKept()
    {
        var context = new MLContext(seed: 1);
        var (train, test) = Data(context);
        var options = Recipe(new TokenIdleImageClassificationOptions { KeepRatio = 0.5, MaxEpoch = 1, TokenMaskColumnName = "TokenMask" });
        var model = Prepare(context).Append(context.MulticlassClassification.Trainers.TokenIdleImageClassification(options)).Fit(train);
        var classifier = model.LastTransformer;
        var scored = model.Transform(test);
        var patches = classifier.Model.Config.NumPatches;
        Assert.Equal(new[] { classifier.ReducingLayers.Count, patches }, ((VectorDataViewType)scored.Schema["TokenMask"].Type).Dimensions);
        var plan = classifier.Strategy!.Plan(classifier.Model.Config);
        var batched = context.Data.CreateEnumerable<Masked>(scored, false, ignoreMissingColumns: true).ToList();
        foreach (var row in batched)
        {
            for (var l = 0; l < classifier.ReducingLayers.Count; l++)
            {
                Assert.Equal(plan[classifier.ReducingLayers[l]].MlpTokens - 1, row.TokenMask.Skip(l * patches).Take(patches).Count(v => v == 1));
                Assert.All(row.TokenMask, v => Assert.True(v is 0 or 1));
            }
        }

        using var engine = context.Model.CreatePredictionEngine<PipelineTestData.ImageRow, Masked>(model);
        var single = context.Data.CreateEnumerable<PipelineTestData.ImageRow>(test, false).Select(r => engine.Predict(r).TokenMask).ToList();
        Assert.Equal(batched.Select(b => b.TokenMask), single);
    }

    [Theory]
    [InlineData("evit-fuse")]
    [InlineData("life")]
    public void EachMethodTrainsThroughItsCatalogEntry(string method)
    {
        var context = new MLContext(seed: 2);
        var (train, test) = Data(context);
        var trainer = method == "life"
            ? context.MulticlassClassification.Trainers.LifeRegressionSlimming(Recipe(new LifeRegressionSlimmingOptions { KeepRatio = 0.5, MaxEpoch = 1 }))
            : context.MulticlassClassification.Trainers.TokenReorganizationImageClassification(Recipe(new TokenReorganizationImageClassificationOptions { KeepRate = 0.5, MaxEpoch = 1 }));
        var model = Prepare(context).Append(trainer).Fit(train);
        Assert.Equal(method, model.LastTransformer.Method);
        var metrics = context.MulticlassClassification.Evaluate(model.Transform(test));
        Assert.InRange(metrics.MicroAccuracy, 0, 1);
        Assert.True(double.IsFinite(metrics.LogLoss));
    }

    [Fact]
    public void AHeldOutFractionValidatesAndEarlyStoppingEndsTheRun()
    {
        var context = new MLContext(seed: 1);
        var log = new List<string>();
        context.Log += (_, e) => log.Add(e.RawMessage);
        var (train, _) = Data(context);
        var options = Recipe(new VisionTransformerTrainerOptions
        {
            ValidationSetFraction = 0.25, EarlyStoppingCriteria = new Microsoft.ML.TokenIdle.Training.EarlyStopping(MinDelta: 1.0, Patience: 1),
        });
        options.MaxEpoch = 5;
        Prepare(context).Append(context.MulticlassClassification.Trainers.VisionTransformer(options)).Fit(train);
        Assert.Contains("holding out 30 of the training rows for validation", log);
        Assert.Contains("stopped early after 2 of 5 epochs: validation did not improve", log);
        Assert.Contains(log, m => m.StartsWith("Accuracy for epoch 1:", StringComparison.Ordinal));
    }

    [Fact]
    public void SchemaAndDeviceErrorsAreMlNetsMessages()
    {
        var context = new MLContext(seed: 1);
        var (train, _) = Data(context);
        var unkeyed = context.Transforms.LoadImages("Image", _data.Images, "ImagePath").Append(context.MulticlassClassification.Trainers.VisionTransformer(Recipe(new VisionTransformerTrainerOptions())));
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => unkeyed.Fit(train));
        Assert.StartsWith("Schema mismatch for label column 'Label': expected Key<UInt32> (use MapValueToKey), got String", e.Message);

        var noImage = context.Transforms.Conversion.MapValueToKey("Label").Append(context.MulticlassClassification.Trainers.VisionTransformer(Recipe(new VisionTransformerTrainerOptions())));
        Assert.StartsWith("Could not find image column 'Image'", Assert.Throws<ArgumentOutOfRangeException>(() => noImage.Fit(train)).Message);

        context.GpuDeviceId = 0;
        var gpu = Assert.Throws<InvalidOperationException>(() => Prepare(context).Append(context.MulticlassClassification.Trainers.VisionTransformer(Recipe(new VisionTransformerTrainerOptions()))).Fit(train));
        Assert.StartsWith("Fallback to CPU is false but no GPU detected", gpu.Message);
    }

    [Fact]
    public void PretrainedWeightsForOtherClassesGetANewHead()
    {
        var context = new MLContext(seed: 1);
        var log = new List<string>();
        context.Log += (_, e) => log.Add(e.RawMessage);
        var (train, _) = Data(context);
        var weights = Path.Combine(_data.Root, "pretrained.safetensors");
        new Microsoft.ML.TokenIdle.Models.VisionTransformer(Microsoft.ML.TokenIdle.Models.VisionTransformerConfig.Load(_data.ConfigPath) with { NumClasses = 4 }, seed: 9).SaveWeights(weights);
        var options = Recipe(new VisionTransformerTrainerOptions { PretrainedWeightsPath = weights, MaxEpoch = 1 });
        var model = Prepare(context).Append(context.MulticlassClassification.Trainers.VisionTransformer(options)).Fit(train);
        Assert.Contains(log, m => m.Contains("has a head for 4 classes; training a new head for 10", StringComparison.Ordinal));
        Assert.Equal(10, model.LastTransformer.Model.Config.NumClasses);
    }
}
