using Microsoft.ML.TokenIdle.Pipeline;
using Microsoft.ML.TokenIdle.Pipeline.Trainers;

namespace Microsoft.ML.TokenIdle.Tests.Pipeline;

public sealed class PredictionEngineTests : IClassFixture<PipelineTestData>
{
    private readonly PipelineTestData _data;

    public PredictionEngineTests(PipelineTestData data) => _data = data;

    public sealed class Prediction
    {
        public float[] Score { get; set; } = Array.Empty<float>();

        public string PredictedName { get; set; } = string.Empty;
    }

    private (MLContext Context, ITransformer Model, List<PipelineTestData.ImageRow> Rows, List<Prediction> Batched) Trained()
    {
        var context = new MLContext(seed: 1);
        var (train, test) = _data.Data(context);
        var model = _data.Prepare(context)
            .Append(context.MulticlassClassification.Trainers.TokenReorganizationImageClassification(_data.Recipe(new TokenReorganizationImageClassificationOptions { MaxEpoch = 1 })))
            .Append(context.Transforms.Conversion.MapKeyToValue("PredictedName", "PredictedLabel"))
            .Fit(train);
        var rows = context.Data.CreateEnumerable<PipelineTestData.ImageRow>(test, false).ToList();
        var batched = context.Data.CreateEnumerable<Prediction>(model.Transform(test), false, ignoreMissingColumns: true).ToList();
        return (context, model, rows, batched);
    }

    [Fact]
    public void AnEngineScoresSingleExamplesAsTransformScoresTheBatch()
    {
        var (context, model, rows, batched) = Trained();
        using var engine = context.Model.CreatePredictionEngine<PipelineTestData.ImageRow, Prediction>(model, new PredictionEngineOptions { OwnsTransformer = false });
        var reused = new Prediction();
        for (var i = 0; i < rows.Count; i++)
        {
            engine.Predict(rows[i], ref reused);
            Assert.Equal(batched[i].PredictedName, reused.PredictedName);
            for (var c = 0; c < 10; c++)
            {
                Assert.Equal(batched[i].Score[c], reused.Score[c], 5);
            }
        }
    }

    [Fact]
    public void ThePoolUsedFromEightThreadsGivesTheSequentialResults()
    {
        var (context, model, rows, _) = Trained();
        using var pool = new PredictionEnginePool<PipelineTestData.ImageRow, Prediction>(context, model);
        var sequential = rows.Select(r => pool.Predict(r)).ToList();
        var concurrent = new Prediction[rows.Count * 4];
        Parallel.For(0, concurrent.Length, new ParallelOptions { MaxDegreeOfParallelism = 8 }, i => concurrent[i] = pool.Predict(rows[i % rows.Count]));
        for (var i = 0; i < concurrent.Length; i++)
        {
            Assert.Equal(sequential[i % rows.Count].PredictedName, concurrent[i].PredictedName);
            Assert.Equal(sequential[i % rows.Count].Score, concurrent[i].Score);
        }
    }
}
