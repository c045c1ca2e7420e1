namespace Microsoft.ML.TokenIdle.Pipeline.Data;

/// <summary>The two halves of <see cref="DataOperationsCatalog.TrainTestSplit"/>.</summary>
/// <param name="TrainSet">Rows to train on.</param>
/// <param name="TestSet">Rows held out.</param>
public sealed record TrainTestData(IDataView TrainSet, IDataView TestSet);
