namespace Microsoft.ML.TokenIdle.Components;

/// <summary>
/// A read-only view of a stream that throws <see cref="EndOfStreamException"/> when a read for at least one byte
/// finds none. ML.NET's binary codecs read arrays with a loop that repeats until it has its bytes; at the end of
/// the data (a damaged count in a model file) that loop would spin forever on reads that return 0.
/// </summary>
internal sealed class EndOfDataGuardStream : Stream
{
    private readonly Stream _inner;

    public EndOfDataGuardStream(Stream inner) => _inner = inner;

    public override bool CanRead => true;

    public override bool CanSeek => _inner.CanSeek;

    public override bool CanWrite => false;

    public override long Length => _inner.Length;

    public override long Position
    {
        get => _inner.Position;
        set => _inner.Position = value;
    }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer)
    {
        var read = _inner.Read(buffer);
        return read > 0 || buffer.IsEmpty ? read : throw new EndOfStreamException("the data ends before the value it holds");
    }

    public override long Seek(long offset, SeekOrigin origin) => _inner.Seek(offset, origin);

    public override void Flush()
    {
    }

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
}
