namespace Microsoft.ML.TokenIdle.Nn;

/// <summary>
/// Derives independent, process-independent seeds from a run seed and stream counters (SplitMix64
/// finalizer). <see cref="HashCode"/> is randomised per process, so it cannot seed a run that must
/// resume identically in another process.
/// </summary>
internal static class Seeds
{
    public static int Derive(int seed, long stream, long counter)
    {
        var z = unchecked((ulong)seed * 0x9E3779B97F4A7C15UL ^ (ulong)stream * 0xBF58476D1CE4E5B9UL ^ (ulong)counter * 0x94D049BB133111EBUL);
        for (var round = 0; round < 2; round++)
        {
            z = unchecked(z + 0x9E3779B97F4A7C15UL);
            z = unchecked((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL);
            z = unchecked((z ^ (z >> 27)) * 0x94D049BB133111EBUL);
            z ^= z >> 31;
        }

        return (int)(z & int.MaxValue);
    }
}
