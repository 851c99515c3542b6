namespace Mlflow.Client.Tests.Infrastructure;

/// <summary>A read-only stream that can be read once, forward only, with no length: what a caller's network or pipe stream looks like to an upload.</summary>
internal sealed class NonSeekableStream(Stream inner) : Stream
{
    public NonSeekableStream(byte[] data)
        : this(new MemoryStream(data))
    {
    }

    public override bool CanRead => true;
    public override bool CanSeek => false;
    public override bool CanWrite => false;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
    public override void Flush() { }
    public override int Read(byte[] buffer, int offset, int count) => inner.Read(buffer, offset, count);
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
}
