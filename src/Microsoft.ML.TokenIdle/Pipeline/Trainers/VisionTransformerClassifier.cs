using Microsoft.ML.TokenIdle.Models;
using Microsoft.ML.TokenIdle.Models.TokenReduction;
using Microsoft.ML.TokenIdle.Pipeline.Data;
using Microsoft.ML.TokenIdle.Tensors;

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
        string imageColumnName, string scoreColumnName, string predictionColumnName, int batchSize)
    {
        (Model, Strategy, Method, KeepRate, LabelAnnotations, ClassNames) = (model, strategy, method, keepRate, labelAnnotations, classNames);
        (ImageColumnName, ScoreColumnName, PredictionColumnName, BatchSize) = (imageColumnName, scoreColumnName, predictionColumnName, batchSize);
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

    /// <inheritdoc/>
    public bool IsRowToRowMapper => true;

    internal DataViewSchema.Annotations LabelAnnotations { get; }

    /// <inheritdoc/>
    public DataViewSchema GetOutputSchema(DataViewSchema inputSchema) => new Mapper(this, inputSchema).OutputSchema();

    /// <inheritdoc/>
    public IDataView Transform(IDataView input) => new BatchScoringDataView(input, new Mapper(this, input.Schema));

    /// <inheritdoc/>
    public IRowToRowMapper GetRowToRowMapper(DataViewSchema inputSchema) => new RowMapper(new Mapper(this, inputSchema));

    /// <summary>Class probabilities of planar images, row-major [n, classes].</summary>
    internal float[] Score(IReadOnlyList<byte[]> images)
    {
        var classes = ClassNames.Count;
        var result = new float[images.Count * classes];
        var data = ImageInput.Dataset(images, null, Model.Config, ClassNames);
        using var scope = TensorScope.Begin();
        var probabilities = Ops.Softmax(Model.Forward(data.Images(Enumerable.Range(0, images.Count).ToArray()), Strategy));
        probabilities.Data.CopyTo(result);
        return result;
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
            OutputColumns = new[]
            {
                new DataViewSchema.DetachedColumn(parent.ScoreColumnName, new VectorDataViewType(NumberDataViewType.Single, classes), score.ToAnnotations()),
                new DataViewSchema.DetachedColumn(parent.PredictionColumnName, new KeyDataViewType(typeof(uint), (ulong)classes), predicted.ToAnnotations()),
            };
        }

        public VisionTransformerClassifier Parent { get; }

        public DataViewSchema.Column Image { get; }

        public override IReadOnlyList<DataViewSchema.DetachedColumn> OutputColumns { get; }

        public override IEnumerable<DataViewSchema.Column> Dependencies(Func<int, bool> isOutputActive)
            => isOutputActive(0) || isOutputActive(1) ? new[] { Image } : Array.Empty<DataViewSchema.Column>();

        /// <summary>Single-row getters: each row is a batch of one, scored once however many getters read it.</summary>
        public override Delegate?[] MakeGetters(DataViewRow input, Func<int, bool> isOutputActive)
        {
            if (!isOutputActive(0) && !isOutputActive(1))
            {
                return new Delegate?[2];
            }

            var read = ImageInput.Reader(input, Image, Parent.Model.Config);
            var cached = long.MinValue;
            float[] probabilities = Array.Empty<float>();
            float[] Current()
            {
                if (cached != input.Position || input.Position < 0)
                {
                    probabilities = Parent.Score(new[] { read() });
                    cached = input.Position;
                }

                return probabilities;
            }

            return Getters(Current, isOutputActive);
        }

        /// <summary>The Score and PredictedLabel getters over a source of the current row's probabilities.</summary>
        public Delegate?[] Getters(Func<ReadOnlyMemory<float>> probabilities, Func<int, bool> isOutputActive)
        {
            var classes = Parent.ClassNames.Count;
            ValueGetter<VBuffer<float>> score = (ref VBuffer<float> value) => value = new VBuffer<float>(classes, probabilities().ToArray());
            ValueGetter<uint> predicted = (ref uint value) => value = (uint)System.Numerics.Tensors.TensorPrimitives.IndexOfMax(probabilities().Span) + 1;
            return new Delegate?[] { isOutputActive(0) ? score : null, isOutputActive(1) ? predicted : null };
        }

        private Delegate?[] Getters(Func<float[]> probabilities, Func<int, bool> isOutputActive) => Getters(() => probabilities().AsMemory(), isOutputActive);

        private static void AddText(DataViewSchema.Annotations.Builder builder, string kind, string text)
            => builder.Add(kind, TextDataViewType.Instance, (ref ReadOnlyMemory<char> value) => value = text.AsMemory());

        private static uint ReadSetId(DataViewSchema.Column column)
        {
            var id = 0u;
            column.Annotations.GetValue(AnnotationKinds.ScoreColumnSetId, ref id);
            return id;
        }
    }

    private sealed class RowMapper : IRowToRowMapper
    {
        private readonly Mapper _mapper;

        public RowMapper(Mapper mapper)
        {
            _mapper = mapper;
            OutputSchema = mapper.OutputSchema();
        }

        public DataViewSchema InputSchema => _mapper.InputSchema;

        public DataViewSchema OutputSchema { get; }

        public DataViewRow GetRow(DataViewRow input, IEnumerable<DataViewSchema.Column> activeColumns)
            => new MappedRow(input, _mapper, OutputSchema, MappedRow.ActiveSet(activeColumns));
    }
}
