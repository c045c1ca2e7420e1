namespace Microsoft.ML.TokenIdle.Pipeline;

/// <summary>The kind of a log message (ML.NET's <c>ChannelMessageKind</c>).</summary>
public enum ChannelMessageKind
{
    /// <summary>Detail for diagnosing.</summary>
    Trace = 0,

    /// <summary>Progress and results.</summary>
    Info = 1,

    /// <summary>Something the user should look at.</summary>
    Warning = 2,

    /// <summary>A failure.</summary>
    Error = 3,
}

/// <summary>One log message (ML.NET's <c>LoggingEventArgs</c>): <c>Message</c> reads <c>[Source=…, Kind=…] raw</c>.</summary>
public sealed class LoggingEventArgs : EventArgs
{
    /// <summary>A message from <paramref name="source"/>.</summary>
    public LoggingEventArgs(string rawMessage, ChannelMessageKind kind, string source) => (RawMessage, Kind, Source) = (rawMessage, kind, source);

    /// <summary>The text alone.</summary>
    public string RawMessage { get; }

    /// <summary>Trace, Info, Warning or Error.</summary>
    public ChannelMessageKind Kind { get; }

    /// <summary>The component that wrote it (e.g. <c>VisionTransformerTrainer</c>).</summary>
    public string Source { get; }

    /// <summary>The formatted message.</summary>
    public string Message => $"[Source={Source}, Kind={Kind}] {RawMessage}";
}
