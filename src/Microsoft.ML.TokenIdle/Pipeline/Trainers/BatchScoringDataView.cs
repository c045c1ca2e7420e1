namespace Microsoft.ML.TokenIdle.Pipeline.Trainers;

/// <summary>
/// The scored view of <see cref="VisionTransformerClassifier.Transform"/>: a second cursor reads the
/// image column up to a batch ahead, one forward pass scores the batch, and the rows are served from
/// it. Rows keep their source order (a shuffling request is ignored: <see cref="CanShuffle"/> is false).
/// </summary>
internal sealed class BatchScoringDataView : IDataView
{
    private readonly IDataView _source;
    private readonly VisionTransformerClassifier.Mapper _mapper;

    public BatchScoringDataView(IDataView source, VisionTransformerClassifier.Mapper mapper)
    {
        (_source, _mapper) = (source, mapper);
        Schema = mapper.OutputSchema();
    }

    public bool CanShuffle => false;

    public DataViewSchema Schema { get; }

    public long? GetRowCount() => _source.GetRowCount();

    public DataViewRowCursor GetRowCursor(IEnumerable<DataViewSchema.Column> columnsNeeded, Random? rand = null)
    {
        var active = MappedRow.ActiveSet(columnsNeeded);
        var count = _source.Schema.Count;
        var scoring = _mapper.AnyActive(i => active.Contains(count + i));
        var passThrough = _source.Schema.Where(c => active.Contains(c.Index)).ToList();
        return new Cursor(this, _source.GetRowCursor(passThrough), scoring ? _source.GetRowCursor(new[] { _mapper.Image }) : null, active);
    }

    public DataViewRowCursor[] GetRowCursorSet(IEnumerable<DataViewSchema.Column> columnsNeeded, int n, Random? rand = null) => new[] { GetRowCursor(columnsNeeded, rand) };

    private sealed class Cursor : DataViewRowCursor
    {
        private readonly BatchScoringDataView _view;
        private readonly DataViewRowCursor _rows;
        private readonly DataViewRowCursor? _ahead;
        private readonly Func<byte[]>? _readImage;
        private readonly MappedRow _row;
        private readonly bool _masks;
        private VisionTransformerClassifier.ScoredBatch? _batch;
        private long _batchStart;
        private int _batchCount;

        public Cursor(BatchScoringDataView view, DataViewRowCursor rows, DataViewRowCursor? ahead, HashSet<int> active)
        {
            (_view, _rows, _ahead) = (view, rows, ahead);
            var count = view._source.Schema.Count;
            _readImage = ahead is null ? null : ImageInput.Reader(ahead, view._mapper.Image, view._mapper.Parent.Model.Config);
            _masks = view._mapper.MasksActive(i => active.Contains(count + i));
            _row = new MappedRow(rows, count, view.Schema, active, view._mapper.Getters(Current, i => active.Contains(count + i)));
        }

        public override long Position => _rows.Position;

        public override long Batch => 0;

        public override DataViewSchema Schema => _view.Schema;

        public override bool IsColumnActive(DataViewSchema.Column column) => _row.IsColumnActive(column);

        public override bool MoveNext() => _rows.MoveNext();

        public override ValueGetter<TValue> GetGetter<TValue>(DataViewSchema.Column column) => _row.GetGetter<TValue>(column);

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                _rows.Dispose();
                _ahead?.Dispose();
            }
        }

        // The current row's batch and index in it, scoring the next batch when the row is past the current one.
        private (VisionTransformerClassifier.ScoredBatch Batch, int Row) Current()
        {
            var position = _rows.Position;
            if (position < 0)
            {
                throw new InvalidOperationException("the cursor is not on a row (call MoveNext first)");
            }

            while (position >= _batchStart + _batchCount)
            {
                var images = new List<byte[]>();
                while (images.Count < _view._mapper.Parent.BatchSize && _ahead!.MoveNext())
                {
                    images.Add(_readImage!());
                }

                if (images.Count == 0)
                {
                    throw new InvalidOperationException($"the source has no image for row {position}");
                }

                (_batchStart, _batchCount) = (_batchStart + _batchCount, images.Count);
                _batch = _view._mapper.Parent.Score(images, _masks);
            }

            return (_batch!, (int)(position - _batchStart));
        }
    }
}
