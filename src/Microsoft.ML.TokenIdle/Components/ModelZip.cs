namespace Microsoft.ML.TokenIdle.Components;

/// <summary>
/// Loads an ML.NET model zip after checking that the file is one: ML.NET's own refusal of another file ("Failed to
/// open a zip archive") names neither the file nor what was expected.
/// </summary>
internal static class ModelZip
{
    private static readonly byte[] LocalHeader = "PK\u0003\u0004"u8.ToArray();
    private static readonly byte[] EmptyArchive = "PK\u0005\u0006"u8.ToArray();

    /// <summary>The model saved in <paramref name="path"/>, with its input schema (null when saved without one).</summary>
    /// <exception cref="FileNotFoundException">No such file.</exception>
    /// <exception cref="InvalidDataException">The file is not a zip; a safetensors file is named as such.</exception>
    public static ITransformer Load(MLContext context, string path, out DataViewSchema? inputSchema)
    {
        if (Directory.Exists(path))
        {
            throw new InvalidDataException($"'{path}' is a folder; expected an ML.NET model zip (written by MLContext.Model.Save)");
        }

        if (!File.Exists(path))
        {
            throw new FileNotFoundException($"model zip '{path}' does not exist", path);
        }

        var head = new byte[9];
        int read;
        using (var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 1))
        {
            read = stream.ReadAtLeast(head, head.Length, throwOnEndOfStream: false);
        }

        if (read < 4 || !(head.AsSpan(0, 4).SequenceEqual(LocalHeader) || head.AsSpan(0, 4).SequenceEqual(EmptyArchive)))
        {
            // A safetensors file starts with its header's length (8 bytes, little-endian), then the header's '{'.
            var weights = read == head.Length && head[^1] == (byte)'{';
            throw new InvalidDataException(weights
                ? $"'{path}' is safetensors weights, not a model zip; expected an ML.NET model zip (written by MLContext.Model.Save); weights are scored with their config (tokenidle infer|evaluate --config CONFIG --weights WEIGHTS)"
                : $"'{path}' is {(read == 0 ? "empty" : "not a zip")}; expected an ML.NET model zip (written by MLContext.Model.Save)");
        }

        return context.Model.Load(path, out inputSchema);
    }
}
