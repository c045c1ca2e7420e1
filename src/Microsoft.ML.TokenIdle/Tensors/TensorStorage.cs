namespace Microsoft.ML.TokenIdle.Tensors;

/// <summary>The memory behind one or more tensors (a reshape shares it). Backends own concrete kinds.</summary>
public abstract class TensorStorage
{
    /// <summary>Number of float elements the storage holds for its tensors.</summary>
    public abstract int Length { get; }

    /// <summary>Where the memory lives.</summary>
    public abstract Device Device { get; }
}

/// <summary>Host memory: a float array, possibly rented from <see cref="BufferPool"/> and longer than needed.</summary>
public sealed class CpuStorage : TensorStorage
{
    private float[]? _buffer;
    private readonly int _length;

    internal CpuStorage(float[] buffer, int length)
    {
        _buffer = buffer;
        _length = length;
    }

    /// <inheritdoc/>
    public override int Length => _length;

    /// <inheritdoc/>
    public override Device Device => Device.Cpu;

    /// <summary>The elements. Throws once a <see cref="TensorScope"/> has reclaimed the memory.</summary>
    public Span<float> Span => Buffer.AsSpan(0, _length);

    internal float[] Buffer => _buffer ?? throw new ObjectDisposedException(
        nameof(Tensor), "this tensor's memory was returned to the pool when its TensorScope ended; call TensorScope.Keep on tensors that must outlive the scope");

    internal float[]? Release()
    {
        var b = _buffer;
        _buffer = null;
        return b;
    }
}
