using Microsoft.ML.Data;
using Microsoft.ML.Runtime;

namespace Microsoft.ML.TokenIdle.Components;

/// <summary>
/// The scored view of <see cref="VisionTransformerClassifier.Transform"/>: the input's columns followed by the
/// classifier's, where a second cursor reads the image column up to a batch ahead, one forward pass scores the
/// batch, and the rows are served from it (ML.NET's own row mapping would score one image at a time). Rows keep
/// their source order: a shuffling request is ignored (<see cref="CanShuffle"/> is false).
/// </summary>
internal sealed class BatchScoringDataView : IDataView
{
    private readonly IHost _host;
    private readonly IDataView _source;
    private readonly VisionTransformerClassifier.Mapper _mapper;

    public BatchScoringDataView(IHost host, IDataView source, VisionTransformerClassifier.Mapper mapper)
    {
        (_host, _source, _mapper) = (host, source, mapper);
        Schema = mapper.Parent.GetOutputSchema(source.Schema);
    }

    public bool CanShuffle => false;

    public DataViewSchema Schema { get; }

    public long? GetRowCount() => _source.GetRowCount();

    public DataViewRowCursor GetRowCursor(IEnumerable<DataViewSchema.Column> columnsNeeded, Random? rand = null)
    {
        var active = columnsNeeded.Select(c => c.Index).ToHashSet();
        var inputCount = _source.Schema.Count;
        bool ActiveOutput(int i) => active.Contains(inputCount + i);
        var scoring = Enumerable.Range(0, _mapper.Count).Any(ActiveOutput);
        var passThrough = _source.Schema.Where(c => active.Contains(c.Index));
        var rows = _source.GetRowCursor(passThrough);
        var ahead = scoring ? _source.GetRowCursor(_mapper.Dependencies) : null;
        return new Cursor(this, rows, ahead, active);
    }

    public DataViewRowCursor[] GetRowCursorSet(IEnumerable<DataViewSchema.Column> columnsNeeded, int n, Random? rand = null)
        => new[] { GetRowCursor(columnsNeeded, rand) };

    private sealed class Cursor : DataViewRowCursor
    {
        private readonly BatchScoringDataView _view;
        private readonly DataViewRowCursor _rows;
        private readonly DataViewRowCursor? _ahead;
        private readonly ImageColumnReader? _reader;
        private readonly HashSet<int> _active;
        private readonly Delegate[] _getters;
        private readonly bool _masks;
        private VisionTransformerClassifier.ScoredBatch? _batch;
        private long _batchStart;
        private int _batchCount;

        public Cursor(BatchScoringDataView view, DataViewRowCursor rows, DataViewRowCursor? ahead, HashSet<int> active)
        {
            (_view, _rows, _ahead, _active) = (view, rows, ahead, active);
            var inputCount = view._source.Schema.Count;
            bool ActiveOutput(int i) => active.Contains(inputCount + i);
            _reader = ahead is null ? null : new ImageColumnReader(ahead, view._mapper.Image, view._mapper.Parent.Model.Config);
            _masks = view._mapper.MasksActive(ActiveOutput);
            _getters = view._mapper.Getters(Current, ActiveOutput);
        }

        public override long Position => _rows.Position;

        public override long Batch => _rows.Batch;

        public override DataViewSchema Schema => _view.Schema;

        public override bool IsColumnActive(DataViewSchema.Column column) => _active.Contains(column.Index);

        public override bool MoveNext() => _rows.MoveNext();

        public override ValueGetter<DataViewRowId> GetIdGetter() => _rows.GetIdGetter();

        public override ValueGetter<TValue> GetGetter<TValue>(DataViewSchema.Column column)
        {
            if (!IsColumnActive(column))
            {
                throw _view._host.ExceptParam(nameof(column), $"column '{column.Name}' was not requested when the cursor was made");
            }

            var inputCount = _view._source.Schema.Count;
            if (column.Index < inputCount)
            {
                return _rows.GetGetter<TValue>(_view._source.Schema[column.Index]);
            }

            return _getters[column.Index - inputCount] as ValueGetter<TValue>
                ?? throw _view._host.ExceptParam(nameof(column), $"column '{column.Name}' is {column.Type}, not readable as {typeof(TValue).Name}");
        }

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                _rows.Dispose();
                _reader?.Dispose();
                _ahead?.Dispose();
            }

            base.Dispose(disposing);
        }

        // The current row's batch and index in it, scoring the next batch when the row is past the current one.
        private (VisionTransformerClassifier.ScoredBatch Batch, int Row) Current()
        {
            var position = _rows.Position;
            if (position < 0)
            {
                throw _view._host.Except("the cursor is not on a row (call MoveNext first)");
            }

            while (position >= _batchStart + _batchCount)
            {
                var inputs = new ModelInputList();
                while (inputs.Count < _view._mapper.Parent.BatchSize && _ahead!.MoveNext())
                {
                    _reader!.ReadInto(inputs);
                }

                if (inputs.Count == 0)
                {
                    throw _view._host.Except($"the source has no image for row {position}");
                }

                (_batchStart, _batchCount) = (_batchStart + _batchCount, inputs.Count);
                _batch = _view._mapper.Parent.Score(inputs, _masks);
            }

            return (_batch!, (int)(position - _batchStart));
        }
    }
}
