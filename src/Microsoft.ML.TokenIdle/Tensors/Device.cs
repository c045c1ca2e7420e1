namespace Microsoft.ML.TokenIdle.Tensors;

/// <summary>Kind of processor a tensor's storage lives on.</summary>
public enum DeviceType
{
    /// <summary>Host memory, computed by <see cref="Cpu.CpuBackend"/>.</summary>
    Cpu,

    /// <summary>An NVIDIA GPU (backend added separately).</summary>
    Cuda,
}

/// <summary>A processor on which tensors live and kernels run, e.g. <c>cpu</c> or <c>cuda:0</c>.</summary>
public readonly record struct Device(DeviceType Type, int Index = 0)
{
    /// <summary>The host CPU.</summary>
    public static Device Cpu { get; } = new(DeviceType.Cpu);

    /// <summary>Parses <c>cpu</c>, <c>cuda</c> or <c>cuda:N</c>.</summary>
    /// <exception cref="ArgumentException">The text names no known device.</exception>
    public static Device Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var t = text.Trim().ToLowerInvariant();
        if (t == "cpu")
        {
            return Cpu;
        }

        if (t == "cuda")
        {
            return new Device(DeviceType.Cuda);
        }

        if (t.StartsWith("cuda:", StringComparison.Ordinal) && int.TryParse(t.AsSpan(5), out var index) && index >= 0)
        {
            return new Device(DeviceType.Cuda, index);
        }

        throw new ArgumentException($"unknown device '{text}': expected cpu, cuda or cuda:N", nameof(text));
    }

    /// <inheritdoc/>
    public override string ToString() => Type == DeviceType.Cpu ? "cpu" : $"cuda:{Index}";
}
