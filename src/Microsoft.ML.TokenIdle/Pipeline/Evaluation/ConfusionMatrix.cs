using System.Globalization;
using System.Text;

namespace Microsoft.ML.TokenIdle.Pipeline.Evaluation;

/// <summary>Counts of (actual, predicted) class pairs with per-class precision and recall (ML.NET's <c>ConfusionMatrix</c>).</summary>
public sealed class ConfusionMatrix
{
    internal ConfusionMatrix(double[][] counts, IReadOnlyList<string> classNames)
    {
        Counts = counts;
        ClassNames = classNames;
        var n = counts.Length;
        PerClassPrecision = Enumerable.Range(0, n).Select(p =>
        {
            var predicted = Enumerable.Range(0, n).Sum(a => counts[a][p]);
            return predicted == 0 ? 0 : counts[p][p] / predicted;
        }).ToArray();
        PerClassRecall = Enumerable.Range(0, n).Select(a =>
        {
            var actual = counts[a].Sum();
            return actual == 0 ? 0 : counts[a][a] / actual;
        }).ToArray();
    }

    /// <summary>Counts[actual][predicted].</summary>
    public IReadOnlyList<IReadOnlyList<double>> Counts { get; }

    /// <summary>Of the rows predicted as each class, the fraction that are it.</summary>
    public IReadOnlyList<double> PerClassPrecision { get; }

    /// <summary>Of the rows of each class, the fraction predicted as it.</summary>
    public IReadOnlyList<double> PerClassRecall { get; }

    /// <summary>Number of classes.</summary>
    public int NumberOfClasses => Counts.Count;

    internal IReadOnlyList<string> ClassNames { get; }

    /// <summary>The count of rows of class <paramref name="actualClassIndex"/> predicted as <paramref name="predictedClassIndex"/>.</summary>
    public double GetCountForClassPair(int predictedClassIndex, int actualClassIndex) => Counts[actualClassIndex][predictedClassIndex];

    /// <summary>The matrix as a text table (rows: truth, columns: predicted) with recall and precision.</summary>
    public string GetFormattedConfusionTable()
    {
        var n = NumberOfClasses;
        var labels = ClassNames.Select(c => c.Length > 12 ? c[..12] : c).ToArray();
        var width = Math.Max(8, labels.Max(l => l.Length) + 1);
        var text = new StringBuilder();
        text.AppendLine("Confusion table");
        text.Append("PREDICTED".PadRight(width + 2)).Append("||");
        foreach (var label in labels)
        {
            text.Append(' ').Append(label.PadLeft(width)).Append(" |");
        }

        text.AppendLine(" Recall");
        text.Append("TRUTH".PadRight(width + 2)).AppendLine("||" + new string('=', (width + 3) * n) + "=======");
        for (var a = 0; a < n; a++)
        {
            text.Append(labels[a].PadLeft(width + 1)).Append(" ||");
            for (var p = 0; p < n; p++)
            {
                text.Append(' ').Append(Counts[a][p].ToString("0", CultureInfo.InvariantCulture).PadLeft(width)).Append(" |");
            }

            text.AppendLine(" " + PerClassRecall[a].ToString("0.0000", CultureInfo.InvariantCulture));
        }

        text.Append("Precision".PadRight(width + 2)).Append("||");
        foreach (var precision in PerClassPrecision)
        {
            text.Append(' ').Append(precision.ToString("0.0000", CultureInfo.InvariantCulture).PadLeft(width)).Append(" |");
        }

        return text.AppendLine().ToString();
    }
}
