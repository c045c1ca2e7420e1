namespace Microsoft.ML.TokenIdle.Pipeline;

/// <summary>Fills <paramref name="value"/> with the current row's value (the caller's buffer is reused across rows).</summary>
public delegate void ValueGetter<TValue>(ref TValue value);
