using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Mlflow.Client.Tests.Rest;

/// <summary>
/// A minimal HTTP/1.1 server on 127.0.0.1 that reads request bodies (Content-Length or chunked) into one small reused
/// buffer, counts them and checks each byte against its offset in its own request body, keeps the raw request line, and answers <c>200 {}</c>. Unlike WireMock it never
/// holds a body in memory, so allocation measurements of the client are not drowned by the server's.
/// </summary>
internal sealed class ArtifactsTestSink : IDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly CancellationTokenSource _stop = new();
    private readonly Func<long, byte, bool> _expectByte;
    private readonly Task _loop;

    public ArtifactsTestSink(Func<long, byte, bool> expectByte, int maxRequests = 4)
    {
        _expectByte = expectByte;
        _listener.Start();
        _loop = Task.Run(() => RunAsync(maxRequests));
    }

    public string Url => $"http://127.0.0.1:{((IPEndPoint)_listener.LocalEndpoint).Port}";

    public List<string> RequestLines { get; } = [];
    public long BodyBytes { get; private set; }
    public long FirstMismatchAt { get; private set; } = -1;
    public bool Chunked { get; private set; }
    private long _requestOffset;

    private async Task RunAsync(int maxRequests)
    {
        var buffer = new byte[64 * 1024];
        for (var n = 0; n < maxRequests && !_stop.IsCancellationRequested; n++)
        {
            using var socket = await _listener.AcceptTcpClientAsync(_stop.Token);
            await using var stream = socket.GetStream();
            var reader = new BufferedReader(stream, buffer);
            var requestLine = await reader.ReadLineAsync(_stop.Token);
            lock (RequestLines)
            {
                RequestLines.Add(requestLine);
            }

            long? length = null;
            var chunked = false;
            for (var i = 0; i < 100; i++)
            {
                var header = await reader.ReadLineAsync(_stop.Token);
                if (header.Length == 0)
                {
                    break;
                }

                if (header.StartsWith("Content-Length:", StringComparison.OrdinalIgnoreCase))
                {
                    length = long.Parse(header[15..].Trim(), System.Globalization.CultureInfo.InvariantCulture);
                }
                else if (header.StartsWith("Transfer-Encoding:", StringComparison.OrdinalIgnoreCase) && header.Contains("chunked", StringComparison.OrdinalIgnoreCase))
                {
                    chunked = true;
                }
            }

            Chunked = chunked;
            _requestOffset = 0;
            if (chunked)
            {
                for (var guard = 0; guard < 10_000_000; guard++)
                {
                    var sizeLine = await reader.ReadLineAsync(_stop.Token);
                    var size = long.Parse(sizeLine.Split(';')[0], System.Globalization.NumberStyles.HexNumber, System.Globalization.CultureInfo.InvariantCulture);
                    if (size == 0)
                    {
                        await reader.ReadLineAsync(_stop.Token);
                        break;
                    }

                    await ConsumeAsync(reader, size);
                    await reader.ReadLineAsync(_stop.Token);
                }
            }
            else if (length is { } l)
            {
                await ConsumeAsync(reader, l);
            }

            var answer = Encoding.ASCII.GetBytes("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}");
            await stream.WriteAsync(answer, _stop.Token);
        }
    }

    private async Task ConsumeAsync(BufferedReader reader, long count)
    {
        while (count > 0)
        {
            var chunk = await reader.ReadAsync((int)Math.Min(count, int.MaxValue), _stop.Token);
            if (chunk.Length == 0)
            {
                throw new EndOfStreamException();
            }

            for (var i = 0; i < chunk.Length; i++)
            {
                if (FirstMismatchAt < 0 && !_expectByte(_requestOffset + i, chunk.Span[i]))
                {
                    FirstMismatchAt = _requestOffset + i;
                }
            }

            BodyBytes += chunk.Length;
            _requestOffset += chunk.Length;
            count -= chunk.Length;
        }
    }

    public void Dispose()
    {
        _stop.Cancel();
        _listener.Stop();
        try
        {
            _loop.Wait(TimeSpan.FromSeconds(5));
        }
        catch (AggregateException)
        {
            // stopped while waiting for a connection
        }

        _stop.Dispose();
    }

    /// <summary>Line and block reads over a socket with one fixed buffer.</summary>
    private sealed class BufferedReader(Stream stream, byte[] buffer)
    {
        private int _start;
        private int _end;

        public async Task<string> ReadLineAsync(CancellationToken ct)
        {
            var line = new StringBuilder();
            for (var guard = 0; guard < 16 * 1024; guard++)
            {
                if (_start == _end && !await FillAsync(ct))
                {
                    break;
                }

                var b = buffer[_start++];
                if (b == '\n')
                {
                    break;
                }

                if (b != '\r')
                {
                    line.Append((char)b);
                }
            }

            return line.ToString();
        }

        public async Task<ReadOnlyMemory<byte>> ReadAsync(int max, CancellationToken ct)
        {
            if (_start == _end && !await FillAsync(ct))
            {
                return ReadOnlyMemory<byte>.Empty;
            }

            var n = Math.Min(max, _end - _start);
            var result = new ReadOnlyMemory<byte>(buffer, _start, n);
            _start += n;
            return result;
        }

        private async Task<bool> FillAsync(CancellationToken ct)
        {
            _start = 0;
            _end = await stream.ReadAsync(buffer, ct);
            return _end > 0;
        }
    }
}
