using System.Diagnostics;

namespace Mlflow.Client;

/// <summary>
/// A URL that reads one artifact straight from the artifact store (S3, GCS, Azure…), without passing through the
/// tracking server: what <see cref="MlflowClient.GetPresignedDownloadUrlAsync"/> returns. Send a GET to
/// <see cref="Url"/> with every header of <see cref="Headers"/>; byte ranges (<c>Range</c>) let you fetch it in parts.
/// </summary>
/// <remarks>
/// The URL itself is the credential: anyone holding it can read the file until it expires. The server decides how
/// long that is (<c>MLFLOW_PRESIGNED_DOWNLOAD_URL_TTL_SECONDS</c>, 300 seconds by default) and does not say in its
/// answer; ask for a new one when a download is refused. <see cref="ToString"/> shows neither the query string nor
/// the header values.
/// </remarks>
[DebuggerDisplay("{ToString(),nq}")]
public sealed class PresignedDownloadUrl
{
    /// <summary>Creates the answer.</summary>
    /// <param name="url">The presigned URL.</param>
    /// <param name="headers">Headers the download request must carry; <see langword="null"/> for none.</param>
    /// <param name="fileSize">The file's size in bytes, when the server gave it.</param>
    public PresignedDownloadUrl(Uri url, IReadOnlyDictionary<string, string>? headers = null, long? fileSize = null)
    {
        ArgumentNullException.ThrowIfNull(url);
        Url = url;
        Headers = headers ?? new Dictionary<string, string>();
        FileSize = fileSize;
    }

    /// <summary>The presigned URL (absolute).</summary>
    public Uri Url { get; }

    /// <summary>Headers the download request must carry (empty when none).</summary>
    public IReadOnlyDictionary<string, string> Headers { get; }

    /// <summary>The file's size in bytes; <see langword="null"/> when the server did not say.</summary>
    public long? FileSize { get; }

    /// <summary>The URL without user info and query string, the header names and the size: nothing that grants access.</summary>
    /// <returns>The text.</returns>
    public override string ToString()
        => $"PresignedDownloadUrl {{ Url = {Url.GetComponents(UriComponents.SchemeAndServer | UriComponents.Path, UriFormat.UriEscaped)}{(Url.Query.Length > 0 ? "?…" : "")}, Headers = [{string.Join(", ", Headers.Keys)}], FileSize = {FileSize} }}";
}
