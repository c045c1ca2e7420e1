using System.Reflection;
using Microsoft.ML.TokenIdle.Pipeline.Data;

namespace Microsoft.ML.TokenIdle.Pipeline;

/// <summary>
/// Scores one object at a time through a model's row mapper (ML.NET's <c>PredictionEngine</c>).
/// <b>Not thread-safe</b>: use one per thread, or a <see cref="PredictionEnginePool{TSrc, TDst}"/>; the model itself may be shared.
/// </summary>
public sealed class PredictionEngine<TSrc, TDst> : IDisposable
    where TSrc : class
    where TDst : class, new()
{
    private readonly ITransformer _transformer;
    private readonly bool _ownsTransformer;
    private readonly ObjectRow _input;
    private readonly Action<object> _write;

    internal PredictionEngine(ITransformer transformer, bool ignoreMissingColumns, bool ownsTransformer)
    {
        (_transformer, _ownsTransformer) = (transformer, ownsTransformer);
        _input = new ObjectRow(typeof(TSrc));
        var mapper = transformer.GetRowToRowMapper(_input.Schema);
        OutputSchema = mapper.OutputSchema;
        var bound = RowBinding.Bind(typeof(TDst), OutputSchema, ignoreMissingColumns, "the model's output");
        _write = RowBinding.Writer(mapper.GetRow(_input, bound.Select(b => b.Column)), bound);
    }

    /// <summary>The schema of the model's output rows.</summary>
    public DataViewSchema OutputSchema { get; }

    /// <summary>Scores <paramref name="example"/> into a new <typeparamref name="TDst"/>.</summary>
    public TDst Predict(TSrc example)
    {
        var result = new TDst();
        Predict(example, ref result);
        return result;
    }

    /// <summary>Scores <paramref name="example"/> into <paramref name="prediction"/> (reused).</summary>
    public void Predict(TSrc example, ref TDst prediction)
    {
        _input.Set(example);
        _write(prediction);
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        if (_ownsTransformer && _transformer is IDisposable disposable)
        {
            disposable.Dispose();
        }
    }

    /// <summary>A one-row view of the current example object; each example is a new position.</summary>
    private sealed class ObjectRow : DataViewRow
    {
        private readonly List<(MemberInfo Member, DataViewType Type)> _members;
        private object? _current;
        private long _position = -1;

        public ObjectRow(Type type)
        {
            var members = RowBinding.Members(type);
            _members = members.Select(m => (m.Member, RowBinding.ColumnType(m.Member, m.MemberType))).ToList();
            var builder = new DataViewSchema.Builder();
            for (var i = 0; i < members.Count; i++)
            {
                builder.AddColumn(members[i].Column, _members[i].Type);
            }

            Schema = builder.ToSchema();
        }

        public override long Position => _position;

        public override long Batch => 0;

        public override DataViewSchema Schema { get; }

        public void Set(object example)
        {
            _current = example ?? throw new ArgumentNullException(nameof(example));
            _position++;
        }

        public override bool IsColumnActive(DataViewSchema.Column column) => true;

        public override ValueGetter<TValue> GetGetter<TValue>(DataViewSchema.Column column)
        {
            var (member, type) = _members[column.Index];
            if (type.RawType != typeof(TValue))
            {
                throw SchemaErrors.InvalidGetterType(typeof(TValue), type.RawType);
            }

            return (ref TValue value) => value = (TValue)RowBinding.ToColumnValue(RowBinding.Get(member, _current ?? throw new InvalidOperationException("no example set")), type)!;
        }
    }
}

/// <summary>
/// Prediction engines for concurrent callers (as <c>Microsoft.Extensions.ML</c>'s pool): each call rents an
/// engine, predicts and returns it, so one model serves many threads.
/// </summary>
public sealed class PredictionEnginePool<TSrc, TDst> : IDisposable
    where TSrc : class
    where TDst : class, new()
{
    private readonly System.Collections.Concurrent.ConcurrentBag<PredictionEngine<TSrc, TDst>> _engines = new();
    private readonly MLContext _context;

    /// <summary>A pool over <paramref name="model"/> (shared by all engines, not disposed by the pool).</summary>
    public PredictionEnginePool(MLContext context, ITransformer model) => (_context, Model) = (context, model);

    /// <summary>The model.</summary>
    public ITransformer Model { get; }

    /// <summary>Scores one example on a rented engine.</summary>
    public TDst Predict(TSrc example)
    {
        var engine = GetPredictionEngine();
        try
        {
            return engine.Predict(example);
        }
        finally
        {
            ReturnPredictionEngine(engine);
        }
    }

    /// <summary>Rents an engine (a new one when none is free).</summary>
    public PredictionEngine<TSrc, TDst> GetPredictionEngine()
        => _engines.TryTake(out var engine) ? engine : _context.Model.CreatePredictionEngine<TSrc, TDst>(Model, new PredictionEngineOptions { OwnsTransformer = false });

    /// <summary>Returns a rented engine.</summary>
    public void ReturnPredictionEngine(PredictionEngine<TSrc, TDst> engine) => _engines.Add(engine);

    /// <inheritdoc/>
    public void Dispose()
    {
        while (_engines.TryTake(out var engine))
        {
            engine.Dispose();
        }
    }
}

/// <summary>Settings of <see cref="ModelOperationsCatalog.CreatePredictionEngine{TSrc, TDst}(ITransformer, PredictionEngineOptions)"/>.</summary>
public sealed class PredictionEngineOptions
{
    /// <summary>Skip output members with no column instead of failing.</summary>
    public bool IgnoreMissingColumns { get; set; } = true;

    /// <summary>Whether disposing the engine disposes the model.</summary>
    public bool OwnsTransformer { get; set; } = true;
}
