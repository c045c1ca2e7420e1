namespace Microsoft.ML.TokenIdle.Tensors;

/// <summary>
/// Exact-size pool of float arrays for inference: a repeated forward pass of the same shapes gets
/// back the arrays of the previous pass, so steady-state scoring allocates almost nothing.
/// </summary>
internal static class BufferPool
{
    private const int MaxPerSize = 32;
    private static readonly Dictionary<int, Stack<float[]>> Free = new();

    public static float[] Rent(int length)
    {
        lock (Free)
        {
            if (Free.TryGetValue(length, out var stack) && stack.Count > 0)
            {
                return stack.Pop();
            }
        }

        return GC.AllocateUninitializedArray<float>(length);
    }

    public static void Return(float[] buffer)
    {
        lock (Free)
        {
            if (!Free.TryGetValue(buffer.Length, out var stack))
            {
                stack = new Stack<float[]>();
                Free[buffer.Length] = stack;
            }

            if (stack.Count < MaxPerSize)
            {
                stack.Push(buffer);
            }
        }
    }
}
