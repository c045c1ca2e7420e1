using Microsoft.ML.TokenIdle.Pipeline.Data;

namespace Microsoft.ML.TokenIdle.Pipeline.Evaluation;

/// <summary>Computes <see cref="MulticlassClassificationMetrics"/> from a key label, a probability Score vector and a predicted key.</summary>
internal static class MulticlassEvaluator
{
    public static MulticlassClassificationMetrics Evaluate(IDataView data, string labelColumnName, string scoreColumnName, string predictedLabelColumnName, int topKPredictionCount)
    {
        var label = data.Schema.GetColumnOrNull(labelColumnName) ?? throw SchemaErrors.MissingColumn("label", labelColumnName);
        var score = data.Schema.GetColumnOrNull(scoreColumnName) ?? throw SchemaErrors.MissingColumn("score", scoreColumnName);
        var predicted = data.Schema.GetColumnOrNull(predictedLabelColumnName) ?? throw SchemaErrors.MissingColumn("predicted label", predictedLabelColumnName);
        if (label.Type is not KeyDataViewType)
        {
            throw SchemaErrors.Mismatch("label", labelColumnName, "Key<UInt32>", label.Type.ToString()!);
        }

        if (score.Type is not VectorDataViewType { IsKnownSize: true, Size: >= 2 } scoreType || scoreType.ItemType != NumberDataViewType.Single)
        {
            throw SchemaErrors.Mismatch("score", scoreColumnName, "known-size vector of Single (2 or more)", score.Type.ToString()!);
        }

        if (topKPredictionCount < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(topKPredictionCount), topKPredictionCount, "must not be negative");
        }

        var classes = scoreType.Size;
        var names = SlotNames(score, classes);
        var counts = Enumerable.Range(0, classes).Select(_ => new double[classes]).ToArray();
        var classLoss = new double[classes];
        var topK = new double[topKPredictionCount];
        var (rows, loss) = (0, 0.0);
        using (var cursor = data.GetRowCursor(new[] { label, score, predicted }))
        {
            var getLabel = cursor.GetGetter<uint>(label);
            var getScore = cursor.GetGetter<VBuffer<float>>(score);
            var getPredicted = cursor.GetGetter<uint>(predicted);
            var (key, guess) = (0u, 0u);
            VBuffer<float> buffer = default;
            var probabilities = new float[classes];
            while (cursor.MoveNext())
            {
                getLabel(ref key);
                if (key == 0 || key > classes)
                {
                    continue;
                }

                getScore(ref buffer);
                getPredicted(ref guess);
                buffer.CopyTo(probabilities);
                var actual = (int)key - 1;
                if (guess >= 1 && guess <= classes)
                {
                    counts[actual][guess - 1]++;
                }

                var rowLoss = -Math.Log(Math.Clamp(probabilities[actual], 1e-15, 1.0));
                loss += rowLoss;
                classLoss[actual] += rowLoss;
                var above = probabilities.Count(p => p > probabilities[actual]);
                for (var k = above; k < topKPredictionCount; k++)
                {
                    topK[k]++;
                }

                rows++;
            }
        }

        if (rows == 0)
        {
            throw new InvalidOperationException($"no row of '{labelColumnName}' has a valid label to evaluate");
        }

        var perClass = counts.Select(c => c.Sum()).ToArray();
        var present = Enumerable.Range(0, classes).Where(c => perClass[c] > 0).ToArray();
        var confusion = new ConfusionMatrix(counts, names);
        var micro = Enumerable.Range(0, classes).Sum(c => counts[c][c]) / rows;
        var macro = present.Average(c => confusion.PerClassRecall[c]);
        var logLoss = loss / rows;
        var prior = -present.Sum(c => perClass[c] / rows * Math.Log(perClass[c] / rows));
        var reduction = prior > 0 ? (prior - logLoss) / prior : 0;
        var perClassLoss = Enumerable.Range(0, classes).Select(c => perClass[c] > 0 ? classLoss[c] / perClass[c] : 0).ToArray();
        return new MulticlassClassificationMetrics(micro, macro, logLoss, reduction, perClassLoss, topKPredictionCount, topK.Select(t => t / rows).ToArray(), confusion);
    }

    private static IReadOnlyList<string> SlotNames(DataViewSchema.Column score, int classes)
    {
        if (score.Annotations.GetTypeOrNull(AnnotationKinds.SlotNames) is null)
        {
            return Enumerable.Range(0, classes).Select(i => i.ToString(System.Globalization.CultureInfo.InvariantCulture)).ToArray();
        }

        VBuffer<ReadOnlyMemory<char>> names = default;
        score.Annotations.GetValue(AnnotationKinds.SlotNames, ref names);
        return names.DenseValues().Select(n => n.ToString()).ToArray();
    }
}
