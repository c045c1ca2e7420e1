namespace Microsoft.ML.TokenIdle.Tensors;

/// <summary>
/// Inference-only memory scope: tensors created on this thread while the scope is open take pooled
/// memory that goes back to the pool when the scope ends. <see cref="Keep"/> hands a result to the
/// enclosing scope (or to the garbage collector when there is none). Scopes nest; they may not be
/// opened while a <see cref="GradientTape"/> records, since the tape needs every intermediate.
/// </summary>
public sealed class TensorScope : IDisposable
{
    [ThreadStatic]
    private static TensorScope? _current;

    private readonly TensorScope? _parent;
    private readonly List<CpuStorage> _owned = new();
    private bool _disposed;

    private TensorScope(TensorScope? parent) => _parent = parent;

    internal static TensorScope? Current => _current;

    /// <summary>Opens a scope on the current thread.</summary>
    /// <exception cref="InvalidOperationException">A gradient tape is recording on this thread.</exception>
    public static TensorScope Begin()
    {
        if (GradientTape.Current is not null)
        {
            throw new InvalidOperationException("a TensorScope reuses memory and cannot be opened while a GradientTape records");
        }

        _current = new TensorScope(_current);
        return _current;
    }

    /// <summary>
    /// Runs <paramref name="step"/> in its own scope and keeps the tensors <paramref name="results"/>
    /// names, so the step's temporaries go back to the pool at once; while a gradient tape records,
    /// just runs it.
    /// </summary>
    public static T Run<T>(Func<T> step, Func<T, IEnumerable<Tensor?>> results)
    {
        if (GradientTape.Current is not null)
        {
            return step();
        }

        using var scope = Begin();
        var result = step();
        foreach (var t in results(result))
        {
            if (t is not null)
            {
                scope.Keep(t);
            }
        }

        return result;
    }

    internal void Adopt(CpuStorage storage) => _owned.Add(storage);

    /// <summary>Moves <paramref name="tensor"/>'s memory out of this scope so it survives <see cref="Dispose"/>.</summary>
    public Tensor Keep(Tensor tensor)
    {
        ArgumentNullException.ThrowIfNull(tensor);
        if (tensor.Storage is CpuStorage s && _owned.Remove(s))
        {
            _parent?.Adopt(s);
        }

        return tensor;
    }

    /// <summary>Returns the memory of every tensor still owned by the scope to the pool.</summary>
    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        foreach (var s in _owned)
        {
            if (s.Release() is { } buffer)
            {
                BufferPool.Return(buffer);
            }
        }

        _owned.Clear();
        if (_current == this)
        {
            _current = _parent;
        }
    }
}
