using System.Net;
using System.Text.Json;
using Mlflow.Client.Rest;

namespace Mlflow.Client;

// Presigned download URLs (GET /api/2.0/mlflow-artifacts/presigned/<path>, MLflow 3): a URL that reads an artifact
// straight from the cloud store the server proxies. Only artifact stores that can sign URLs answer it (S3 in MLflow
// 3.11.1); every other one answers 501 NOT_IMPLEMENTED, turned here into a message that says what to use instead.
public partial class MlflowClient
{
    /// <summary>
    /// Asks the server for a URL that downloads one artifact straight from its artifact store, without passing through
    /// the server (<c>GET mlflow-artifacts/presigned/...</c>; MLflow 3 servers serving artifacts from a store that can
    /// sign URLs, such as S3).
    /// </summary>
    /// <param name="artifactUri">The artifact root, for example <c>mlflow-artifacts:/1/&lt;run id&gt;/artifacts</c>
    /// (<see cref="RunInfo.ArtifactUri"/> or <see cref="LoggedModelMetadata.ArtifactUri"/>); when it names a host, that host is asked.</param>
    /// <param name="artifactPath">Path of the file under that root, with <c>/</c> separators.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <returns>The URL, the headers the download must carry and the file's size when known. The server decides how long
    /// the URL stays valid (<c>MLFLOW_PRESIGNED_DOWNLOAD_URL_TTL_SECONDS</c>, 300 seconds by default) and does not say.</returns>
    /// <exception cref="MlflowValidationException">The path is absolute or contains <c>..</c>, <c>\</c>, <c>#</c>, NUL or a drive letter; nothing was sent.</exception>
    /// <exception cref="MlflowException">With <see cref="MlflowErrorCode.NotImplemented"/> (HTTP 501) when the server's artifact
    /// store cannot sign URLs (a local folder, for one): use <see cref="DownloadArtifactAsync"/> then.</exception>
    /// <exception cref="NotSupportedException">The artifact URI is not an <c>mlflow-artifacts:</c> URI, or this client reads a local store.</exception>
    public virtual async Task<PresignedDownloadUrl> GetPresignedDownloadUrlAsync(string artifactUri, string artifactPath, CancellationToken cancellationToken = default)
    {
        var root = ArtifactLocation.ParseRoot(artifactUri);
        var relative = ArtifactLocation.SplitRelativePath(artifactPath, allowEmpty: false);
        var uri = ArtifactLocation.PresignedUri(TrackingBase, root, relative);
        string body;
        try
        {
            body = await Mlflow3CallAsync(
                async () =>
                {
                    using var request = new HttpRequestMessage(HttpMethod.Get, uri);
                    using var response = await SendAsync(request, HttpCompletionOption.ResponseContentRead, cancellationToken).ConfigureAwait(false);
                    return await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
                },
                "Presigned download URLs",
                "Download through the server with DownloadArtifactAsync instead.",
                cancellationToken).ConfigureAwait(false);
        }
        catch (MlflowException ex) when (ex.StatusCode == HttpStatusCode.NotImplemented || ex.ErrorCode == MlflowErrorCode.NotImplemented)
        {
            throw new MlflowException(
                ex.StatusCode, ex.RawErrorCode,
                $"The artifact store of {TrackingUri} cannot hand out presigned download URLs (the server answered: {ex.ServerMessage ?? "not implemented"}). "
                + "Only stores that can sign URLs (S3 in MLflow 3.11.1) can; download through the server with DownloadArtifactAsync instead.",
                ex.Method, ex.Path, ex, MlflowFailureKind.Rejected);
        }

        return ReadPresigned(body, uri);
    }

    private static PresignedDownloadUrl ReadPresigned(string body, Uri requestUri)
    {
        PresignedDownloadUrlResponse? answer;
        try
        {
            answer = JsonSerializer.Deserialize(body, MlflowRegistryJsonContext.Default.PresignedDownloadUrlResponse);
        }
        catch (JsonException ex)
        {
            throw new MlflowException(HttpStatusCode.OK, null, "The response could not be read: " + ex.Message, "GET", requestUri.AbsolutePath, ex, MlflowFailureKind.NotApplied);
        }

        if (answer?.Url is not { Length: > 0 } text || !Uri.TryCreate(text, UriKind.Absolute, out var url) || (url.Scheme != Uri.UriSchemeHttps && url.Scheme != Uri.UriSchemeHttp))
        {
            // The text is not repeated: it would be a credential if it were a URL at all.
            throw new MlflowException(HttpStatusCode.OK, null, "The response holds no absolute http(s) URL.", "GET", requestUri.AbsolutePath, null, MlflowFailureKind.NotApplied);
        }

        return new PresignedDownloadUrl(url, answer.Headers ?? new Dictionary<string, string>(), answer.FileSize);
    }
}
