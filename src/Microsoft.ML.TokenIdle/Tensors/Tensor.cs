namespace Microsoft.ML.TokenIdle.Tensors;

/// <summary>
/// A dense, contiguous, row-major float32 tensor. Reshapes are views over the same storage; every
/// other operation (in <see cref="Ops"/>) writes a new tensor and, when a <see cref="GradientTape"/>
/// records, registers its backward step.
/// </summary>
public sealed class Tensor
{
    private readonly int[] _shape;

    internal Tensor(TensorStorage storage, int[] shape)
    {
        var count = ShapeUtil.Count(shape);
        if (count > storage.Length)
        {
            throw new ArgumentException($"shape {ShapeUtil.Format(shape)} needs {count} elements, storage holds {storage.Length}");
        }

        Storage = storage;
        _shape = shape;
        Length = count;
    }

    /// <summary>The dimensions, outermost first.</summary>
    public ReadOnlySpan<int> Shape => _shape;

    internal int[] ShapeArray => _shape;

    /// <summary>Number of dimensions.</summary>
    public int Rank => _shape.Length;

    /// <summary>Number of elements.</summary>
    public int Length { get; }

    /// <summary>The memory behind the tensor.</summary>
    public TensorStorage Storage { get; }

    /// <summary>Where the tensor lives.</summary>
    public Device Device => Storage.Device;

    /// <summary>Whether backward passes compute a gradient for this tensor (parameters, and results of ops on them).</summary>
    public bool RequiresGrad { get; set; }

    /// <summary>The accumulated gradient after <see cref="GradientTape.Backward"/>, or null.</summary>
    public Tensor? Grad { get; set; }

    /// <summary>The elements of a CPU tensor.</summary>
    /// <exception cref="InvalidOperationException">The tensor lives on another device.</exception>
    public Span<float> Data => Storage is CpuStorage cpu
        ? cpu.Span[..Length]
        : throw new InvalidOperationException($"tensor lives on {Device}; copy it to the CPU first");

    /// <summary>Size of dimension <paramref name="axis"/>; negative counts from the end.</summary>
    public int Size(int axis) => _shape[ShapeUtil.Axis(axis, Rank)];

    /// <summary>A new zero-filled CPU tensor.</summary>
    public static Tensor Zeros(params int[] shape) => Allocate(shape, clear: true);

    /// <summary>A CPU tensor holding a copy of <paramref name="values"/>.</summary>
    public static Tensor FromArray(ReadOnlySpan<float> values, params int[] shape)
    {
        var t = Allocate(shape, clear: false);
        if (values.Length != t.Length)
        {
            throw new ArgumentException($"{values.Length} values do not fill shape {ShapeUtil.Format(shape)} ({t.Length} elements)");
        }

        values.CopyTo(t.Data);
        return t;
    }

    /// <summary>A CPU tensor filled with <paramref name="value"/>.</summary>
    public static Tensor Full(float value, params int[] shape)
    {
        var t = Allocate(shape, clear: false);
        t.Data.Fill(value);
        return t;
    }

    /// <summary>
    /// Allocates a CPU tensor: from the pool inside a <see cref="TensorScope"/>, otherwise fresh.
    /// Uncleared memory is garbage; kernels that accumulate must ask for <paramref name="clear"/>.
    /// </summary>
    internal static Tensor Allocate(int[] shape, bool clear)
    {
        var count = ShapeUtil.Count(shape);
        CpuStorage storage;
        if (TensorScope.Current is { } scope)
        {
            storage = new CpuStorage(BufferPool.Rent(count), count);
            scope.Adopt(storage);
            if (clear)
            {
                storage.Span.Clear();
            }
        }
        else
        {
            storage = new CpuStorage(clear ? new float[count] : GC.AllocateUninitializedArray<float>(count), count);
        }

        return new Tensor(storage, shape);
    }

    /// <summary>A new tensor of the same shape and device, not recorded on any tape.</summary>
    public Tensor Clone()
    {
        var t = Allocate(_shape, clear: false);
        Data.CopyTo(t.Data);
        return t;
    }

    /// <summary>The elements as a new array.</summary>
    public float[] ToArray() => Data.ToArray();

    /// <summary>Element at a multi-dimensional index (slow; for tests and inspection).</summary>
    public float this[params int[] index] => Data[ShapeUtil.Offset(_shape, index)];

    /// <summary>Gets or creates the zero-filled gradient buffer.</summary>
    internal Tensor GradOrZeros() => Grad ??= Ops.BackendOf(this).Zeros(_shape);

    /// <inheritdoc/>
    public override string ToString() => $"Tensor{ShapeUtil.Format(_shape)} on {Device}";
}
