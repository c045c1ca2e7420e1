namespace Microsoft.ML.TokenIdle.Pipeline;

/// <summary>
/// Adds one column computed from one input column by a function, evaluated at most once per row
/// (repeated getter calls on the same row reuse the value).
/// </summary>
internal sealed class OneToOneColumnMapper<TIn, TOut> : ColumnMapper
{
    private readonly DataViewSchema.Column _input;
    private readonly Func<TIn, TOut> _map;

    public OneToOneColumnMapper(DataViewSchema schema, DataViewSchema.Column input, DataViewSchema.DetachedColumn output, Func<TIn, TOut> map)
        : base(schema)
    {
        (_input, _map) = (input, map);
        OutputColumns = new[] { output };
    }

    public override IReadOnlyList<DataViewSchema.DetachedColumn> OutputColumns { get; }

    public override IEnumerable<DataViewSchema.Column> Dependencies(Func<int, bool> isOutputActive) => isOutputActive(0) ? new[] { _input } : Array.Empty<DataViewSchema.Column>();

    public override Delegate?[] MakeGetters(DataViewRow input, Func<int, bool> isOutputActive)
    {
        if (!isOutputActive(0))
        {
            return new Delegate?[1];
        }

        var source = input.GetGetter<TIn>(_input);
        TIn value = default!;
        TOut result = default!;
        var cached = long.MinValue;
        ValueGetter<TOut> getter = (ref TOut output) =>
        {
            if (cached != input.Position || input.Position < 0)
            {
                source(ref value);
                result = _map(value);
                cached = input.Position;
            }

            output = result;
        };
        return new Delegate?[] { getter };
    }
}
