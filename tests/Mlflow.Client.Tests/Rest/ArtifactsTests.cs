using System.Net;
using System.Text;
using Mlflow.Client.Tests.Infrastructure;
using NUnit.Framework;
using WireMock.RequestBuilders;
using WireMock.ResponseBuilders;

namespace Mlflow.Client.Tests.Rest;

[TestFixture]
public class ArtifactsTests
{
    private const string Root = "mlflow-artifacts:/1/d188689980624e10a930bd15bea71b14/artifacts";
    private const string RunPath = "/api/2.0/mlflow-artifacts/artifacts/1/d188689980624e10a930bd15bea71b14/artifacts";

    private static readonly string[] UnsafePaths =
    [
        "/etc/passwd", "../escape.txt", "a/../../b", "a/..", "..", "a\\b.txt", "..\\x", "a#b", "a\0b", "C:/x", "c:x", "",
    ];

    [TestCaseSource(nameof(UnsafePaths))]
    public void UnsafePath_IsRefusedBeforeAnyRequest(string path)
    {
        using var server = FixtureServer.Start();
        server.Server.Given(Request.Create().UsingAnyMethod()).RespondWith(Response.Create().WithStatusCode(200).WithBody("{}"));
        using var client = server.CreateClient();

        Assert.ThrowsAsync<MlflowValidationException>(() => client.UploadArtifactAsync(Root, path, new MemoryStream([1, 2, 3])));
        Assert.ThrowsAsync<MlflowValidationException>(() => client.DownloadArtifactAsync(Root, path));
        Assert.ThrowsAsync<MlflowValidationException>(() => client.DeleteArtifactAsync(Root, path));
        Assert.ThrowsAsync<MlflowValidationException>(() => client.DownloadRunArtifactAsync("d188689980624e10a930bd15bea71b14", path));
        Assert.ThrowsAsync<MlflowValidationException>(() => client.DownloadArtifactToFileAsync(Root, path, Path.Combine(Path.GetTempPath(), "never-written.bin")));
        if (path.Length > 0)
        {
            Assert.ThrowsAsync<MlflowValidationException>(() => client.ListProxiedArtifactsAsync(Root, path));
        }

        Assert.That(server.Requests, Is.Empty, "nothing may be sent for an unsafe path");
    }

    [TestCase("file:///tmp/mlruns/0/abc/artifacts")]
    [TestCase("s3://bucket/0/abc/artifacts")]
    [TestCase("/tmp/mlruns/0/abc/artifacts")]
    public void NonProxyArtifactUri_IsNotSupported(string artifactUri)
    {
        using var server = FixtureServer.Start();
        using var client = server.CreateClient();

        var ex = Assert.ThrowsAsync<NotSupportedException>(() => client.UploadArtifactAsync(artifactUri, "a.txt", new MemoryStream([1])));
        Assert.That(ex!.Message, Does.Contain("mlflow-artifacts:"));
        Assert.ThrowsAsync<NotSupportedException>(() => client.ListProxiedArtifactsAsync(artifactUri));
        Assert.That(server.Requests, Is.Empty);
    }

    [Test]
    public async Task ArtifactUriWithHost_SendsToThatHost_NotTheTrackingServer()
    {
        using var tracking = FixtureServer.Start();
        using var artifactHost = FixtureServer.Start();
        artifactHost.Server.Given(Request.Create().UsingPut()).RespondWith(Response.Create().WithStatusCode(200).WithBody("{}"));
        using var client = tracking.CreateClient();
        var port = new Uri(artifactHost.Url).Port;

        await client.UploadArtifactAsync($"mlflow-artifacts://127.0.0.1:{port}/1/run/artifacts", "x.txt", new MemoryStream("hi"u8.ToArray()));

        Assert.That(tracking.Requests, Is.Empty);
        Assert.That(artifactHost.SingleRequest().RequestMessage.Path, Is.EqualTo("/api/2.0/mlflow-artifacts/artifacts/1/run/artifacts/x.txt"));
    }

    [Test]
    public async Task TrackingUriPathPrefix_IsKept()
    {
        using var server = FixtureServer.Start();
        server.Server.Given(Request.Create().UsingAnyMethod()).RespondWith(Response.Create().WithStatusCode(200).WithBody("{}"));
        using var client = new MlflowClient(new MlflowClientOptions { TrackingUri = server.Url + "/mlflow/", RequestTimeout = TimeSpan.FromSeconds(10), Retry = { MaxRetries = 0 } });

        await client.UploadArtifactAsync(Root, "a/b.txt", new MemoryStream([1]));
        await client.ListProxiedArtifactsAsync(Root, "a");

        var paths = server.Requests.Select(r => r.RequestMessage.Path).ToList();
        Assert.That(paths, Is.EqualTo(new[] { "/mlflow" + RunPath + "/a/b.txt", "/mlflow/api/2.0/mlflow-artifacts/artifacts" }));
        Assert.That(RegistryArtifactsContractTests.ParseQuery(server.Requests[1].RequestMessage.RawQuery)["path"], Is.EqualTo(new[] { "1/d188689980624e10a930bd15bea71b14/artifacts/a" }));
    }

    [Test]
    public async Task Segments_ArePercentEncoded_OnTheWire()
    {
        using var sink = new ArtifactsTestSink((_, _) => true);
        using var client = new MlflowClient(new MlflowClientOptions { TrackingUri = sink.Url, RequestTimeout = TimeSpan.FromSeconds(10), Retry = { MaxRetries = 0 } });

        await client.UploadArtifactAsync(Root, "dir with space/ü?%.txt", new MemoryStream([1, 2]));

        Assert.That(sink.RequestLines, Has.Count.EqualTo(1));
        Assert.That(sink.RequestLines[0], Is.EqualTo($"PUT {RunPath}/dir%20with%20space/%C3%BC%3F%25.txt HTTP/1.1"));
        Assert.That(sink.BodyBytes, Is.EqualTo(2));
    }

    [Test]
    public async Task LargeUpload_FromNonSeekableStream_IsStreamedNotBuffered()
    {
        const long size = 50L * 1024 * 1024;
        using var sink = new ArtifactsTestSink((offset, b) => b == Pattern(offset));
        using var client = new MlflowClient(new MlflowClientOptions { TrackingUri = sink.Url, RequestTimeout = TimeSpan.FromSeconds(60), Retry = { MaxRetries = 0 } });
        await client.UploadArtifactAsync(Root, "warmup.bin", new GeneratedStream(1024)); // JIT and connection setup outside the measurement

        using var source = new GeneratedStream(size);
        var before = GC.GetTotalAllocatedBytes(precise: true);
        await client.UploadArtifactAsync(Root, "big.bin", source);
        var allocated = GC.GetTotalAllocatedBytes(precise: true) - before;

        Assert.That(source.Produced, Is.EqualTo(size));
        Assert.That(sink.BodyBytes, Is.EqualTo(1024 + size), "the server received every byte");
        Assert.That(sink.FirstMismatchAt, Is.EqualTo(-1), "bytes arrived in order and unchanged");
        Assert.That(sink.Chunked, Is.True, "a stream of unknown length goes out chunked");
        Assert.That(allocated, Is.LessThan(8L * 1024 * 1024), $"the upload allocated {allocated} bytes for a {size}-byte body: it was buffered");
    }

    [Test]
    public async Task Upload_ToWireMock_DeliversExactBytes_WithLengthForSeekableStreams()
    {
        using var server = FixtureServer.Start();
        server.Server.Given(Request.Create().UsingPut()).RespondWith(Response.Create().WithStatusCode(200).WithBody("{}"));
        using var client = server.CreateClient();
        var bytes = new byte[3 * 1024 * 1024 + 7];
        new Random(42).NextBytes(bytes);
        using var seekable = new MemoryStream(bytes);

        await client.UploadArtifactAsync(Root, "data/blob.bin", seekable);
        await client.UploadArtifactAsync(Root, "data/gen.bin", new GeneratedStream(100_000));

        var requests = server.Requests;
        Assert.That(requests, Has.Count.EqualTo(2));
        Assert.That(requests[0].RequestMessage.Path, Is.EqualTo(RunPath + "/data/blob.bin"));
        Assert.That(requests[0].RequestMessage.BodyAsBytes, Is.EqualTo(bytes));
        Assert.That(requests[0].RequestMessage.Headers!["Content-Length"].Single(), Is.EqualTo(bytes.Length.ToString(System.Globalization.CultureInfo.InvariantCulture)));
        Assert.That(requests[1].RequestMessage.BodyAsBytes, Is.EqualTo(Enumerable.Range(0, 100_000).Select(i => Pattern(i)).ToArray()));
        Assert.That(seekable.CanRead, Is.True, "the caller's stream is not disposed");
    }

    [Test]
    public async Task Download_ReturnsExactBytes_AndToFile_WritesThemAtomically()
    {
        var bytes = new byte[2 * 1024 * 1024 + 3];
        new Random(7).NextBytes(bytes);
        using var server = FixtureServer.Start();
        server.Server.Given(Request.Create().WithPath(RunPath + "/model/weights.bin").UsingGet())
            .RespondWith(Response.Create().WithStatusCode(200).WithHeader("Content-Type", "application/octet-stream").WithBody(bytes));
        using var client = server.CreateClient();

        await using (var stream = await client.DownloadArtifactAsync(Root, "model/weights.bin"))
        {
            using var copy = new MemoryStream();
            await stream.CopyToAsync(copy);
            Assert.That(copy.ToArray(), Is.EqualTo(bytes));
        }

        var dir = Path.Combine(Path.GetTempPath(), "mlflow-dl-" + Guid.NewGuid().ToString("N"));
        try
        {
            var target = Path.Combine(dir, "nested", "weights.bin");
            var written = await client.DownloadArtifactToFileAsync(Root, "model/weights.bin", target);
            Assert.That(written, Is.EqualTo(bytes.Length));
            Assert.That(await File.ReadAllBytesAsync(target), Is.EqualTo(bytes));
            Assert.That(Directory.GetFiles(Path.Combine(dir, "nested")), Has.Length.EqualTo(1), "no partial file left behind");
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Test]
    public async Task DownloadToFile_OnError_LeavesNoFile()
    {
        var fixture = RestFixture.Load("rest", "mlflow-artifacts-download.not-found");
        using var server = FixtureServer.Start().Answer(fixture);
        using var client = server.CreateClient();
        var dir = Path.Combine(Path.GetTempPath(), "mlflow-dl-" + Guid.NewGuid().ToString("N"));
        try
        {
            var ex = Assert.ThrowsAsync<MlflowException>(() => client.DownloadArtifactToFileAsync(Root, "outputs/missing.txt", Path.Combine(dir, "missing.txt")));
            Assert.That(ex!.StatusCode, Is.EqualTo(HttpStatusCode.InternalServerError));
            Assert.That(ex.ErrorCode, Is.EqualTo(MlflowErrorCode.InternalError));
            Assert.That(Directory.Exists(dir) ? Directory.GetFiles(dir) : [], Is.Empty);
        }
        finally
        {
            if (Directory.Exists(dir))
            {
                Directory.Delete(dir, recursive: true);
            }
        }

        await Task.CompletedTask;
    }

    [Test]
    public void UnreachableServer_IsMlflowException_WithMethodAndPath()
    {
        int port;
        using (var probe = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0))
        {
            probe.Start();
            port = ((IPEndPoint)probe.LocalEndpoint).Port;
        }

        using var client = new MlflowClient(new MlflowClientOptions { TrackingUri = $"http://127.0.0.1:{port}", RequestTimeout = TimeSpan.FromSeconds(5), Retry = { MaxRetries = 0 } });
        var ex = Assert.ThrowsAsync<MlflowException>(() => client.DownloadArtifactAsync(Root, "a.txt"));
        Assert.That(ex!.StatusCode, Is.Null);
        Assert.That(ex.Method, Is.EqualTo("GET"));
        Assert.That(ex.Path, Is.EqualTo(RunPath + "/a.txt"));
    }

    private static byte Pattern(long offset) => (byte)(offset % 251);

    /// <summary>A forward-only stream of <see cref="Pattern"/> bytes that refuses to be read past its end twice.</summary>
    private sealed class GeneratedStream(long length) : Stream
    {
        public long Produced { get; private set; }
        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

        public override int Read(Span<byte> buffer)
        {
            var n = (int)Math.Min(buffer.Length, length - Produced);
            for (var i = 0; i < n; i++)
            {
                buffer[i] = Pattern(Produced + i);
            }

            Produced += n;
            return n;
        }

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) => ValueTask.FromResult(Read(buffer.Span));
        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) => Task.FromResult(Read(buffer, offset, count));
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
