using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Mlflow.Client.Rest;

namespace Mlflow.Client;

public partial class MlflowClient
{
    private const int MaxErrorBodyChars = 64 * 1024;
    private const int CopyBufferSize = 81920;

    /// <summary>Lists a folder of a run's artifacts through the tracking API (<c>artifacts/list</c>).</summary>
    /// <param name="runId">The run id.</param>
    /// <param name="path">Folder relative to the run's artifact root; the root when <see langword="null"/>.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <returns>Files and folders, with paths relative to the run's artifact root.</returns>
    public virtual async Task<IReadOnlyList<ArtifactFileInfo>> ListArtifactsAsync(string runId, string? path = null, CancellationToken cancellationToken = default)
    {
        Require(runId, nameof(runId));
        if (_local is { } local)
        {
            return await local.Store.ListArtifactsAsync(runId, path, cancellationToken).ConfigureAwait(false);
        }

        var all = new List<ArtifactFileInfo>();
        string? token = null;
        do
        {
            var current = token;
            var page = await CallAsync(() => _tracking.ListArtifactsAsync(runId, path, current, cancellationToken), cancellationToken).ConfigureAwait(false);
            if (page.Files is { } files)
            {
                all.AddRange(files);
            }

            token = NullIfEmpty(page.NextPageToken);
        }
        while (token is not null);

        return all;
    }

    /// <summary>Uploads one artifact through the server's artifact proxy, streamed (<c>PUT mlflow-artifacts/artifacts/...</c>).</summary>
    /// <param name="artifactUri">The run's artifact root, for example <c>mlflow-artifacts:/1/&lt;run id&gt;/artifacts</c>
    /// (<see cref="RunInfo.ArtifactUri"/>); when it names a host (<c>mlflow-artifacts://host:port/...</c>) that host receives the upload.</param>
    /// <param name="artifactPath">Path of the file under that root, with <c>/</c> separators, for example <c>outputs/model.onnx</c>.</param>
    /// <param name="content">The bytes to send, read once from its current position and never buffered whole; it is not disposed.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <returns>A task that completes when the server confirmed.</returns>
    /// <exception cref="MlflowValidationException">The path is absolute or contains <c>..</c>, <c>\</c>, <c>#</c>, NUL or a drive letter; nothing was sent.</exception>
    /// <exception cref="NotSupportedException">The artifact URI is not an <c>mlflow-artifacts:</c> URI.</exception>
    public virtual async Task UploadArtifactAsync(string artifactUri, string artifactPath, Stream content, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(content);
        var uri = ProxyFileUri(artifactUri, artifactPath);
        using var request = new HttpRequestMessage(HttpMethod.Put, uri) { Content = new ForwardOnlyStreamContent(content) };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        using var response = await SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Opens an artifact for reading through the server's artifact proxy (<c>GET mlflow-artifacts/artifacts/...</c>).</summary>
    /// <param name="artifactUri">The run's artifact root, for example <c>mlflow-artifacts:/1/&lt;run id&gt;/artifacts</c>.</param>
    /// <param name="artifactPath">Path of the file under that root.</param>
    /// <param name="cancellationToken">Cancels the request (reading the stream takes its own token).</param>
    /// <returns>A stream over the response body, read as it arrives; dispose it to release the connection.</returns>
    /// <exception cref="MlflowException">The server refused; a missing file is HTTP 500 <c>INTERNAL_ERROR</c> on MLflow 2.x, not 404.</exception>
    public virtual async Task<Stream> DownloadArtifactAsync(string artifactUri, string artifactPath, CancellationToken cancellationToken = default)
    {
        var uri = ProxyFileUri(artifactUri, artifactPath);
        return await OpenReadAsync(uri, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Downloads an artifact into a local file, streamed; the file appears only once complete.</summary>
    /// <param name="artifactUri">The run's artifact root, for example <c>mlflow-artifacts:/1/&lt;run id&gt;/artifacts</c>.</param>
    /// <param name="artifactPath">Path of the file under that root.</param>
    /// <param name="localPath">Where to write; its folder is created, an existing file is replaced.</param>
    /// <param name="cancellationToken">Cancels the download.</param>
    /// <returns>The number of bytes written.</returns>
    public virtual async Task<long> DownloadArtifactToFileAsync(string artifactUri, string artifactPath, string localPath, CancellationToken cancellationToken = default)
    {
        Require(localPath, nameof(localPath));
        var full = Path.GetFullPath(localPath);
        var uri = ProxyFileUri(artifactUri, artifactPath);
        if (Path.GetDirectoryName(full) is { Length: > 0 } dir)
        {
            Directory.CreateDirectory(dir);
        }

        var partial = full + ".partial-" + Guid.NewGuid().ToString("N")[..8];
        try
        {
            long written;
            var source = await OpenReadAsync(uri, cancellationToken).ConfigureAwait(false);
            await using (source.ConfigureAwait(false))
            {
                var target = new FileStream(partial, FileMode.CreateNew, FileAccess.Write, FileShare.None, CopyBufferSize, useAsync: true);
                await using (target.ConfigureAwait(false))
                {
                    await source.CopyToAsync(target, CopyBufferSize, cancellationToken).ConfigureAwait(false);
                    written = target.Length;
                }
            }

            File.Move(partial, full, overwrite: true);
            return written;
        }
        finally
        {
            if (File.Exists(partial))
            {
                File.Delete(partial);
            }
        }
    }

    /// <summary>Deletes an artifact through the server's artifact proxy (<c>DELETE mlflow-artifacts/artifacts/...</c>).</summary>
    /// <param name="artifactUri">The run's artifact root.</param>
    /// <param name="artifactPath">Path of the file or folder under that root.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <returns>A task that completes when the server confirmed.</returns>
    /// <remarks>MLflow 2.x deletes folders of a local artifact destination but answers HTTP 500 for a single file.</remarks>
    public virtual async Task DeleteArtifactAsync(string artifactUri, string artifactPath, CancellationToken cancellationToken = default)
    {
        var uri = ProxyFileUri(artifactUri, artifactPath);
        using var request = new HttpRequestMessage(HttpMethod.Delete, uri);
        using var response = await SendAsync(request, HttpCompletionOption.ResponseContentRead, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Lists a folder through the server's artifact proxy (<c>GET mlflow-artifacts/artifacts?path=</c>).</summary>
    /// <param name="artifactUri">The run's artifact root, for example <c>mlflow-artifacts:/1/&lt;run id&gt;/artifacts</c>.</param>
    /// <param name="path">Folder under that root; the root itself when <see langword="null"/>.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <returns>Files and folders with paths relative to <paramref name="artifactUri"/> (like <see cref="ListArtifactsAsync"/>); empty for a missing folder.</returns>
    public virtual async Task<IReadOnlyList<ArtifactFileInfo>> ListProxiedArtifactsAsync(string artifactUri, string? path = null, CancellationToken cancellationToken = default)
    {
        var root = ArtifactLocation.ParseRoot(artifactUri);
        var relative = ArtifactLocation.SplitRelativePath(path, allowEmpty: true);
        var uri = ArtifactLocation.ListUri(TrackingBase, root, relative);
        using var request = new HttpRequestMessage(HttpMethod.Get, uri);
        using var response = await SendAsync(request, HttpCompletionOption.ResponseContentRead, cancellationToken).ConfigureAwait(false);
        ProxiedArtifactListResponse? list;
        try
        {
            var body = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
            list = string.IsNullOrWhiteSpace(body) ? null : JsonSerializer.Deserialize(body, MlflowRegistryJsonContext.Default.ProxiedArtifactListResponse);
        }
        catch (JsonException ex)
        {
            throw new MlflowException(response.StatusCode, null, "The response could not be read: " + ex.Message, request.Method.Method, uri.AbsolutePath, ex, MlflowFailureKind.NotApplied);
        }

        var prefix = string.Join('/', relative);
        return (list?.Files ?? [])
            .Select(f => prefix.Length == 0 ? f : f with { Path = prefix + "/" + f.Path })
            .ToList();
    }

    /// <summary>Opens a run artifact through the server's download route, whatever the artifact store (<c>GET /get-artifact?run_id=&amp;path=</c>).</summary>
    /// <param name="runId">The run id.</param>
    /// <param name="path">Path of the file relative to the run's artifact root.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <returns>A stream over the response body; dispose it to release the connection.</returns>
    public virtual async Task<Stream> DownloadRunArtifactAsync(string runId, string path, CancellationToken cancellationToken = default)
    {
        Require(runId, nameof(runId));
        if (_local is { } local)
        {
            return await local.OpenRunArtifactAsync(runId, path, cancellationToken).ConfigureAwait(false);
        }

        var relative = ArtifactLocation.SplitRelativePath(path, allowEmpty: false);
        var uri = new Uri(ArtifactLocation.ServerBase(TrackingBase, null) + "/get-artifact?run_id=" + Uri.EscapeDataString(runId)
            + "&path=" + Uri.EscapeDataString(string.Join('/', relative)));
        return await OpenReadAsync(uri, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Asks the server whether it is up (<c>GET /health</c>).</summary>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <returns>The server's answer, <c>OK</c> for MLflow's own server.</returns>
    public virtual async Task<string> GetHealthAsync(CancellationToken cancellationToken = default)
    {
        var text = await CallAsync(() => _artifacts.GetHealthAsync(cancellationToken), cancellationToken).ConfigureAwait(false);
        return text.Trim();
    }

    /// <summary>Gets the server's MLflow version (<c>GET /version</c>).</summary>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <returns>The version text, for example <c>2.12.2</c>.</returns>
    public virtual async Task<string> GetServerVersionAsync(CancellationToken cancellationToken = default)
    {
        var text = await CallAsync(() => _artifacts.GetVersionAsync(cancellationToken), cancellationToken).ConfigureAwait(false);
        return text.Trim();
    }

    private Uri TrackingBase => HttpClient.BaseAddress ?? TrackingUri;

    private Uri ProxyFileUri(string artifactUri, string artifactPath)
    {
        var root = ArtifactLocation.ParseRoot(artifactUri);
        var relative = ArtifactLocation.SplitRelativePath(artifactPath, allowEmpty: false);
        return ArtifactLocation.FileUri(TrackingBase, root, relative);
    }

    private async Task<Stream> OpenReadAsync(Uri uri, CancellationToken cancellationToken)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, uri);
        HttpResponseMessage? response = null;
        try
        {
            response = await SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
            var body = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
            var stream = new ResponseStream(body, response, request);
            response = null;
            return stream;
        }
        catch
        {
            response?.Dispose();
            request.Dispose();
            throw;
        }
    }

    /// <summary>Sends a request straight through <see cref="HttpClient"/>; a non-success answer becomes <see cref="MlflowException"/> (the response is then disposed).</summary>
    private async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, HttpCompletionOption completion, CancellationToken cancellationToken)
    {
        var method = request.Method.Method;
        var path = request.RequestUri?.AbsolutePath;
        HttpResponseMessage response;
        try
        {
            response = await HttpClient.SendAsync(request, completion, cancellationToken).ConfigureAwait(false);
        }
        catch (HttpRequestException ex)
        {
            throw ErrorMapping.FromTransport(ex, method, path);
        }
        catch (TaskCanceledException ex) when (!cancellationToken.IsCancellationRequested)
        {
            throw ErrorMapping.FromTransport(ex, method, path);
        }

        if (response.IsSuccessStatusCode)
        {
            return response;
        }

        using (response)
        {
            string? body = null;
            try
            {
                body = await ReadBoundedAsync(response.Content, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is HttpRequestException or IOException)
            {
                // the status says enough
            }

            throw ErrorMapping.FromResponse(response.StatusCode, body, method, path ?? "", response.RequestMessage?.RequestUri);
        }
    }

    private static async Task<string> ReadBoundedAsync(HttpContent content, CancellationToken cancellationToken)
    {
        var stream = await content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
        await using (stream.ConfigureAwait(false))
        {
            using var reader = new StreamReader(stream, Encoding.UTF8);
            var buffer = new char[MaxErrorBodyChars];
            var total = 0;
            while (total < buffer.Length)
            {
                var read = await reader.ReadAsync(buffer.AsMemory(total), cancellationToken).ConfigureAwait(false);
                if (read == 0)
                {
                    break;
                }

                total += read;
            }

            return new string(buffer, 0, total);
        }
    }

    /// <summary>Streams a caller's stream as a request body, once, without disposing it.</summary>
    private sealed class ForwardOnlyStreamContent(Stream source) : HttpContent, Resilience.IStreamedRequestContent
    {
        private readonly long _start = source.CanSeek ? source.Position : -1;
        private bool _consumed;

        public bool CanResend => _start >= 0;

        protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context, CancellationToken cancellationToken)
        {
            if (_consumed)
            {
                if (_start < 0)
                {
                    throw new InvalidOperationException("The artifact stream cannot be sent twice: it is not seekable.");
                }

                source.Position = _start;
            }

            _consumed = true;
            await source.CopyToAsync(stream, CopyBufferSize, cancellationToken).ConfigureAwait(false);
        }

        protected override Task SerializeToStreamAsync(Stream stream, TransportContext? context)
            => SerializeToStreamAsync(stream, context, CancellationToken.None);

        protected override bool TryComputeLength(out long length)
        {
            if (_start >= 0)
            {
                length = source.Length - _start;
                return true;
            }

            length = 0;
            return false;
        }
    }

    /// <summary>The body of a download: disposing it releases the response and its connection.</summary>
    private sealed class ResponseStream(Stream inner, HttpResponseMessage response, HttpRequestMessage request) : Stream
    {
        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => response.Content.Headers.ContentLength ?? throw new NotSupportedException("The server did not send a length.");
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override int Read(byte[] buffer, int offset, int count) => inner.Read(buffer, offset, count);
        public override int Read(Span<byte> buffer) => inner.Read(buffer);
        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) => inner.ReadAsync(buffer, offset, count, cancellationToken);
        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) => inner.ReadAsync(buffer, cancellationToken);
        public override Task CopyToAsync(Stream destination, int bufferSize, CancellationToken cancellationToken) => inner.CopyToAsync(destination, bufferSize, cancellationToken);
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                inner.Dispose();
                response.Dispose();
                request.Dispose();
            }

            base.Dispose(disposing);
        }

        public override async ValueTask DisposeAsync()
        {
            await inner.DisposeAsync().ConfigureAwait(false);
            response.Dispose();
            request.Dispose();
            await base.DisposeAsync().ConfigureAwait(false);
        }
    }
}
