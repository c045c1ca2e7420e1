namespace Microsoft.ML.TokenIdle.Engine;

/// <summary>Error texts as users read them: one line, whatever a native library or a server put in them.</summary>
internal static class ErrorMessages
{
    /// <summary><paramref name="text"/> with its lines trimmed and joined by spaces (a JSON excerpt, a nested exception's text, a loader's report).</summary>
    public static string OneLine(string text) => string.Join(' ', text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
}
