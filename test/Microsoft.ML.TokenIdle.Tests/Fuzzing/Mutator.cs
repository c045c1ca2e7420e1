namespace Microsoft.ML.TokenIdle.Tests.Fuzzing;

/// <summary>Seeded mutations of a valid input: bit flips, interesting bytes, truncation, deletion, insertion and splices.</summary>
public static class Mutator
{
    private static readonly byte[] Interesting = { 0x00, 0x01, 0x7F, 0x80, 0xFF, (byte)'"', (byte)'9', (byte)'-', (byte)'[', (byte)'}', (byte)',' };

    /// <summary>Mutant number <paramref name="index"/> of <paramref name="original"/> (the same index always gives the same bytes).</summary>
    public static byte[] Mutate(byte[] original, int index)
    {
        var random = new Random(index);
        var bytes = original.ToList();
        for (var step = 0; step < 1 + random.Next(3); step++)
        {
            var at = random.Next(Math.Max(1, bytes.Count));
            switch (random.Next(6))
            {
                case 0 when bytes.Count > 0:
                    bytes[at] ^= (byte)(1 << random.Next(8));
                    break;
                case 1 when bytes.Count > 0:
                    bytes[at] = Interesting[random.Next(Interesting.Length)];
                    break;
                case 2:
                    bytes.RemoveRange(at, bytes.Count - at);
                    break;
                case 3 when bytes.Count > 0:
                    bytes.RemoveRange(at, Math.Min(bytes.Count - at, 1 + random.Next(16)));
                    break;
                case 4:
                    bytes.InsertRange(at, Enumerable.Range(0, 1 + random.Next(16)).Select(_ => (byte)random.Next(256)));
                    break;
                default:
                    // Splice: a chunk of the original copied over another place (repeats names, offsets, markers).
                    var from = random.Next(original.Length);
                    var chunk = original.AsSpan(from, Math.Min(original.Length - from, 1 + random.Next(64))).ToArray();
                    bytes.InsertRange(Math.Min(at, bytes.Count), chunk);
                    break;
            }
        }

        return bytes.ToArray();
    }
}
