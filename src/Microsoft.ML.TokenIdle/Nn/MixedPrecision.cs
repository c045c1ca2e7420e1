using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Microsoft.ML.TokenIdle.Nn;

/// <summary>
/// Autocast for TorchSharp, which has none: inside <see cref="Products"/>, the linear layers and the patch convolution
/// of a float32 network cast their input, weight and bias to the scope's type at use, so the matrix products run in
/// it (oneDNN's AMX path for bfloat16) while the weights stay float32 — autograd casts their gradients back, so the
/// optimiser and its state see float32 only. Everything else keeps the type its inputs have: the residual stream
/// (float32 plus a bfloat16 branch is float32), LayerNorm, the loss. Per thread, as <c>torch.autocast</c>.
/// </summary>
internal static class MixedPrecision
{
    [ThreadStatic]
    private static ScalarType? t_products;

    /// <summary>Runs the products of this thread in <paramref name="type"/> until the returned scope is disposed.</summary>
    public static IDisposable Products(ScalarType type)
    {
        var scope = new Scope(t_products);
        t_products = type;
        return scope;
    }

    /// <summary>
    /// The scope a training pass in <paramref name="precision"/> runs in: bfloat16 products for
    /// <see cref="Precision.BFloat16"/>, none (null) for float32. Float16 training is refused before it gets here.
    /// </summary>
    public static IDisposable? Training(Precision precision) => precision switch
    {
        Precision.Float32 => null,
        Precision.BFloat16 => Products(ScalarType.BFloat16),
        _ => throw new ArgumentOutOfRangeException(nameof(precision), precision, "training runs in float32 or bfloat16"),
    };

    /// <summary><paramref name="layer"/> applied to <paramref name="input"/>, in the products' type inside a scope.</summary>
    public static Tensor Linear(Linear layer, Tensor input)
        => Cast(layer.weight!) is { } type
            ? nn.functional.linear(input.to_type(type), layer.weight!.to_type(type), layer.bias?.to_type(type))
            : layer.forward(input);

    /// <summary><paramref name="layer"/> applied to <paramref name="input"/>, in the products' type inside a scope.</summary>
    public static Tensor Convolution(Conv2d layer, Tensor input)
        => Cast(layer.weight!) is { } type
            ? nn.functional.conv2d(input.to_type(type), layer.weight!.to_type(type), layer.bias?.to_type(type), strides: layer.stride, padding: layer.padding, dilation: layer.dilation, groups: layer.groups)
            : layer.forward(input);

    // The type to cast to, or null when no scope is open or the weights already have it (a network converted for scoring).
    private static ScalarType? Cast(Tensor weight) => t_products is { } type && weight.dtype != type ? type : null;

    private sealed class Scope(ScalarType? previous) : IDisposable
    {
        public void Dispose() => t_products = previous;
    }
}
