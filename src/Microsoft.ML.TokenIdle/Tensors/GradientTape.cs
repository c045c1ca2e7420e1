namespace Microsoft.ML.TokenIdle.Tensors;

/// <summary>
/// Reverse-mode autograd tape. While a tape is open on a thread, every op whose inputs require a
/// gradient appends its backward step; <see cref="Backward"/> replays the steps in reverse and
/// accumulates into <see cref="Tensor.Grad"/> of everything that requires a gradient. Without an
/// open tape nothing is recorded (inference mode).
/// </summary>
public sealed class GradientTape : IDisposable
{
    [ThreadStatic]
    private static GradientTape? _current;

    private readonly GradientTape? _parent;
    private readonly List<Action> _steps = new();
    private bool _disposed;

    private GradientTape(GradientTape? parent) => _parent = parent;

    /// <summary>The tape recording on this thread, or null (inference mode).</summary>
    public static GradientTape? Current => _current;

    /// <summary>Number of recorded backward steps.</summary>
    public int Count => _steps.Count;

    /// <summary>Opens a tape on the current thread.</summary>
    /// <exception cref="InvalidOperationException">A <see cref="TensorScope"/> is open on this thread.</exception>
    public static GradientTape Begin()
    {
        if (TensorScope.Current is not null)
        {
            throw new InvalidOperationException("a GradientTape cannot record inside a TensorScope, whose memory is reused");
        }

        _current = new GradientTape(_current);
        return _current;
    }

    /// <summary>
    /// Marks <paramref name="output"/> as differentiable and records <paramref name="backward"/> when
    /// a tape is open and one of <paramref name="inputs"/> requires a gradient.
    /// </summary>
    internal static void Record(Tensor output, Action backward, params Tensor?[] inputs)
    {
        if (_current is null || !AnyRequiresGrad(inputs))
        {
            return;
        }

        output.RequiresGrad = true;
        _current._steps.Add(backward);
    }

    /// <summary>Same as <see cref="Record(Tensor, Action, Tensor?[])"/> for ops with several differentiable outputs.</summary>
    internal static void Record(Tensor[] outputs, Action backward, params Tensor?[] inputs)
    {
        if (_current is null || !AnyRequiresGrad(inputs))
        {
            return;
        }

        foreach (var o in outputs)
        {
            o.RequiresGrad = true;
        }

        _current._steps.Add(backward);
    }

    private static bool AnyRequiresGrad(Tensor?[] inputs)
    {
        foreach (var t in inputs)
        {
            if (t is { RequiresGrad: true })
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>
    /// Seeds d<paramref name="loss"/>/d<paramref name="loss"/> = 1 (or <paramref name="seed"/>) and
    /// runs the recorded steps backwards. Gradients of parameters add to what they held before.
    /// </summary>
    /// <exception cref="InvalidOperationException">The loss was not computed under this tape.</exception>
    public void Backward(Tensor loss, Tensor? seed = null)
    {
        ArgumentNullException.ThrowIfNull(loss);
        if (!loss.RequiresGrad)
        {
            throw new InvalidOperationException("the loss does not depend on any tensor that requires a gradient under this tape");
        }

        if (seed is not null && !ShapeUtil.SameShape(seed.Shape, loss.Shape))
        {
            throw new ArgumentException($"seed shape {ShapeUtil.Format(seed.Shape)} differs from loss shape {ShapeUtil.Format(loss.Shape)}");
        }

        var g = loss.GradOrZeros();
        if (seed is null)
        {
            g.Data.Fill(1f);
        }
        else
        {
            seed.Data.CopyTo(g.Data);
        }

        for (var i = _steps.Count - 1; i >= 0; i--)
        {
            _steps[i]();
        }

        _steps.Clear();
    }

    /// <summary>Closes the tape; the thread returns to the enclosing tape or to inference mode.</summary>
    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        _steps.Clear();
        if (_current == this)
        {
            _current = _parent;
        }
    }
}
