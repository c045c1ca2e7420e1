using Microsoft.ML.TokenIdle.Models;
using Microsoft.ML.TokenIdle.Models.TokenReduction;
using Microsoft.ML.TokenIdle.Pipeline.Data;
using Microsoft.ML.TokenIdle.Tensors;
using Microsoft.ML.TokenIdle.Training.Data;

namespace Microsoft.ML.TokenIdle.Pipeline.Trainers;

/// <summary>
/// A trained ViT classifier, with or without its token-reduction method, as a transformer. It adds
/// <c>Score</c> (softmax probabilities, one slot per class, <c>SlotNames</c> = class names) and
/// <c>PredictedLabel</c> (a key whose <c>KeyValues</c> are the training label's) from one forward
/// pass per row. <see cref="Transform"/> scores in mini-batches of <see cref="BatchSize"/>;
/// the transformer is safe to share between threads.
/// </summary>
public sealed class VisionTransformerClassifier : ITransformer, IDisposable
{
    internal VisionTransformerClassifier(VisionTransformer model, TokenReductionStrategy? strategy, string method, double keepRate, DataViewSchema.Annotations labelAnnotations, IReadOnlyList<string> classNames,
        string imageColumnName, string scoreColumnName, string predictionColumnName, int batchSize, string? tokenMaskColumnName)
    {
        (Model, Strategy, Method, KeepRate, LabelAnnotations, ClassNames) = (model, strategy, method, keepRate, labelAnnotations, classNames);
        (ImageColumnName, ScoreColumnName, PredictionColumnName, BatchSize) = (imageColumnName, scoreColumnName, predictionColumnName, batchSize);
        TokenMaskColumnName = strategy is null ? null : tokenMaskColumnName;
        ReducingLayers = strategy?.Schedule.ReducingLayers.ToArray() ?? Array.Empty<int>();
    }

    /// <summary>The network.</summary>
    public VisionTransformer Model { get; }

    /// <summary>The token-reduction method, or null for the full model.</summary>
    public TokenReductionStrategy? Strategy { get; }

    /// <summary>The method's name (full, evit, evit-fuse, idle, life).</summary>
    public string Method { get; }

    /// <summary>The base keep ratio (1 for the full model).</summary>
    public double KeepRate { get; }

    /// <summary>The class names, in key order (key i + 1 is class i).</summary>
    public IReadOnlyList<string> ClassNames { get; }

    /// <summary>The image column read.</summary>
    public string ImageColumnName { get; }

    /// <summary>The probabilities column written.</summary>
    public string ScoreColumnName { get; }

    /// <summary>The predicted-key column written.</summary>
    public string PredictionColumnName { get; }

    /// <summary>Images per forward pass in <see cref="Transform"/>.</summary>
    public int BatchSize { get; }

    /// <summary>
    /// The optional diagnostic column: per reducing layer (<see cref="ReducingLayers"/>) and patch, 1 where the
    /// layer kept (or processed) the patch and 0 where it was dropped or idle, [layers, patches]; null: not added.
    /// </summary>
    public string? TokenMaskColumnName { get; }

    /// <summary>The blocks that reduce tokens, in order (the rows of the token-mask column).</summary>
    public IReadOnlyList<int> ReducingLayers { get; }

    /// <inheritdoc/>
    public bool IsRowToRowMapper => true;

    internal DataViewSchema.Annotations LabelAnnotations { get; }

    /// <inheritdoc/>
    public DataViewSchema GetOutputSchema(DataViewSchema inputSchema) => new Mapper(this, inputSchema).OutputSchema();

    /// <inheritdoc/>
    public IDataView Transform(IDataView input) => new BatchScoringDataView(input, new Mapper(this, input.Schema));

    /// <inheritdoc/>
    public IRowToRowMapper GetRowToRowMapper(DataViewSchema inputSchema) => new ColumnMapperRowMapper(new Mapper(this, inputSchema));

    /// <summary>Class probabilities of planar images, row-major [n, classes], and with <paramref name="masks"/> their token masks [n, layers × patches].</summary>
    internal ScoredBatch Score(IReadOnlyList<byte[]> images, bool masks)
    {
        var classes = ClassNames.Count;
        var probabilities = new float[images.Count * classes];
        var data = ImageDataset.ForModel(images, null, Model.Config, ClassNames);
        var trace = masks && Strategy is not null ? new TokenReductionTrace() : null;
        using (TensorScope.Begin())
        {
            var batch = data.Images(Enumerable.Range(0, images.Count).ToArray());
            Ops.Softmax(Model.Forward(batch, Strategy, trace)).Data.CopyTo(probabilities);
        }

        var patches = Model.Config.NumPatches;
        var maskSize = ReducingLayers.Count * patches;
        float[]? mask = null;
        if (trace is not null)
        {
            mask = new float[images.Count * maskSize];
            for (var l = 0; l < trace.Records.Count; l++)
            {
                var record = trace.Records[l];
                for (var b = 0; b < images.Count; b++)
                {
                    foreach (var source in record.KeptSources.AsSpan(b * record.KeptPerImage, record.KeptPerImage))
                    {
                        if (source >= 0)
                        {
                            mask[b * maskSize + l * patches + source] = 1;
                        }
                    }
                }
            }
        }

        return new ScoredBatch(probabilities, classes, mask, maskSize);
    }

    /// <inheritdoc/>
    public void Dispose()
    {
    }

    /// <summary>The added columns and their getters for one input schema.</summary>
    internal sealed class Mapper : ColumnMapper
    {
        public Mapper(VisionTransformerClassifier parent, DataViewSchema schema)
            : base(schema)
        {
            Parent = parent;
            Image = schema.GetColumnOrNull(parent.ImageColumnName) ?? throw SchemaErrors.MissingColumn("image", parent.ImageColumnName);
            if (!ImageInput.Accepts(Image.Type))
            {
                throw SchemaErrors.Mismatch("image", parent.ImageColumnName, "Image or Vector<Byte> (encoded)", Image.Type.ToString()!);
            }

            var classes = parent.ClassNames.Count;
            var names = parent.ClassNames.Select(n => n.AsMemory()).ToArray();
            var setId = schema.Select(c => c.Annotations.GetTypeOrNull(AnnotationKinds.ScoreColumnSetId) is null ? 0u : ReadSetId(c)).DefaultIfEmpty(0u).Max() + 1;
            var score = new DataViewSchema.Annotations.Builder();
            score.AddSlotNames(classes, (ref VBuffer<ReadOnlyMemory<char>> value) => value = new VBuffer<ReadOnlyMemory<char>>(classes, names));
            AddText(score, AnnotationKinds.ScoreColumnKind, "MulticlassClassification");
            AddText(score, AnnotationKinds.ScoreValueKind, "Score");
            score.Add(AnnotationKinds.ScoreColumnSetId, NumberDataViewType.UInt32, (ref uint value) => value = setId);
            score.Add(AnnotationKinds.TrainingLabelValues, new VectorDataViewType(TextDataViewType.Instance, classes), (ref VBuffer<ReadOnlyMemory<char>> value) => value = new VBuffer<ReadOnlyMemory<char>>(classes, names));
            var predicted = new DataViewSchema.Annotations.Builder();
            predicted.Add(parent.LabelAnnotations, kind => kind == AnnotationKinds.KeyValues);
            AddText(predicted, AnnotationKinds.ScoreColumnKind, "MulticlassClassification");
            AddText(predicted, AnnotationKinds.ScoreValueKind, "PredictedLabel");
            predicted.Add(AnnotationKinds.ScoreColumnSetId, NumberDataViewType.UInt32, (ref uint value) => value = setId);
            var columns = new List<DataViewSchema.DetachedColumn>
            {
                new(parent.ScoreColumnName, new VectorDataViewType(NumberDataViewType.Single, classes), score.ToAnnotations()),
                new(parent.PredictionColumnName, new KeyDataViewType(typeof(uint), (ulong)classes), predicted.ToAnnotations()),
            };
            if (parent.TokenMaskColumnName is { } maskName)
            {
                var patches = parent.Model.Config.NumPatches;
                var slots = parent.ReducingLayers.SelectMany(l => Enumerable.Range(0, patches).Select(p => FormattableString.Invariant($"layer{l}.patch{p}").AsMemory())).ToArray();
                var mask = new DataViewSchema.Annotations.Builder();
                mask.AddSlotNames(slots.Length, (ref VBuffer<ReadOnlyMemory<char>> value) => value = new VBuffer<ReadOnlyMemory<char>>(slots.Length, slots));
                columns.Add(new(maskName, new VectorDataViewType(NumberDataViewType.Single, parent.ReducingLayers.Count, patches), mask.ToAnnotations()));
            }

            OutputColumns = columns;
        }

        public VisionTransformerClassifier Parent { get; }

        public DataViewSchema.Column Image { get; }

        public override IReadOnlyList<DataViewSchema.DetachedColumn> OutputColumns { get; }

        /// <summary>Whether any added column is read.</summary>
        public bool AnyActive(Func<int, bool> isOutputActive) => Enumerable.Range(0, OutputColumns.Count).Any(isOutputActive);

        /// <summary>Whether the token-mask column is read.</summary>
        public bool MasksActive(Func<int, bool> isOutputActive) => OutputColumns.Count > 2 && isOutputActive(2);

        public override IEnumerable<DataViewSchema.Column> Dependencies(Func<int, bool> isOutputActive)
            => AnyActive(isOutputActive) ? new[] { Image } : Array.Empty<DataViewSchema.Column>();

        /// <summary>Single-row getters: each row is a batch of one, scored once however many getters read it.</summary>
        public override Delegate?[] MakeGetters(DataViewRow input, Func<int, bool> isOutputActive)
        {
            if (!AnyActive(isOutputActive))
            {
                return new Delegate?[OutputColumns.Count];
            }

            var read = ImageInput.Reader(input, Image, Parent.Model.Config);
            var masks = MasksActive(isOutputActive);
            var cached = long.MinValue;
            ScoredBatch scored = null!;
            ScoredBatch Current()
            {
                if (cached != input.Position || input.Position < 0)
                {
                    scored = Parent.Score(new[] { read() }, masks);
                    cached = input.Position;
                }

                return scored;
            }

            return Getters(() => (Current(), 0), isOutputActive);
        }

        /// <summary>The getters of the added columns over a source of the current row (its batch and index in it).</summary>
        public Delegate?[] Getters(Func<(ScoredBatch Batch, int Row)> current, Func<int, bool> isOutputActive)
        {
            var classes = Parent.ClassNames.Count;
            ValueGetter<VBuffer<float>> score = (ref VBuffer<float> value) =>
            {
                var (batch, row) = current();
                value = new VBuffer<float>(classes, batch.Probabilities(row).ToArray());
            };
            ValueGetter<uint> predicted = (ref uint value) =>
            {
                var (batch, row) = current();
                value = (uint)System.Numerics.Tensors.TensorPrimitives.IndexOfMax(batch.Probabilities(row).Span) + 1;
            };
            ValueGetter<VBuffer<float>> mask = (ref VBuffer<float> value) =>
            {
                var (batch, row) = current();
                var values = batch.Mask(row).ToArray();
                value = new VBuffer<float>(values.Length, values);
            };
            var getters = new Delegate?[OutputColumns.Count];
            getters[0] = isOutputActive(0) ? score : null;
            getters[1] = isOutputActive(1) ? predicted : null;
            if (OutputColumns.Count > 2)
            {
                getters[2] = isOutputActive(2) ? mask : null;
            }

            return getters;
        }

        private static void AddText(DataViewSchema.Annotations.Builder builder, string kind, string text)
            => builder.Add(kind, TextDataViewType.Instance, (ref ReadOnlyMemory<char> value) => value = text.AsMemory());

        private static uint ReadSetId(DataViewSchema.Column column)
        {
            var id = 0u;
            column.Annotations.GetValue(AnnotationKinds.ScoreColumnSetId, ref id);
            return id;
        }
    }

    /// <summary>One forward pass's outputs: probabilities [n, classes] and, when asked for, token masks [n, layers × patches].</summary>
    internal sealed record ScoredBatch(float[] AllProbabilities, int Classes, float[]? AllMasks, int MaskSize)
    {
        public ReadOnlyMemory<float> Probabilities(int row) => AllProbabilities.AsMemory(row * Classes, Classes);

        public ReadOnlyMemory<float> Mask(int row) => AllMasks?.AsMemory(row * MaskSize, MaskSize) ?? throw new InvalidOperationException("the batch was scored without token masks");
    }
}
