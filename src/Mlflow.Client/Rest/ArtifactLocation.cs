using System.Text;

namespace Mlflow.Client.Rest;

/// <summary>
/// Turns an <c>mlflow-artifacts:</c> artifact URI plus a relative path into the server's artifact proxy URL, and refuses
/// relative paths that could leave the artifact root before anything is sent.
/// </summary>
internal static class ArtifactLocation
{
    internal const string ProxyScheme = "mlflow-artifacts";
    internal const string ProxyApiPath = "/api/2.0/mlflow-artifacts/artifacts";
    internal const string PresignedApiPath = "/api/2.0/mlflow-artifacts/presigned";

    /// <summary>The artifact root of an <c>mlflow-artifacts:</c> URI: an optional authority (host:port) and its path segments.</summary>
    internal sealed record ProxyRoot(string? Authority, IReadOnlyList<string> Segments);

    /// <summary>Parses <c>mlflow-artifacts:/1/&lt;run&gt;/artifacts</c> or <c>mlflow-artifacts://host:port/1/&lt;run&gt;/artifacts</c>.</summary>
    /// <exception cref="NotSupportedException">For any other scheme (<c>file:</c>, <c>s3:</c>...): those stores are not reachable through the server.</exception>
    public static ProxyRoot ParseRoot(string artifactUri)
    {
        ArgumentException.ThrowIfNullOrEmpty(artifactUri);
        var colon = artifactUri.IndexOf(':', StringComparison.Ordinal);
        var scheme = colon > 0 ? artifactUri[..colon] : "";
        if (!scheme.Equals(ProxyScheme, StringComparison.OrdinalIgnoreCase))
        {
            throw new NotSupportedException(
                $"Artifact URIs of scheme '{(scheme.Length == 0 ? "(none)" : scheme)}' are not supported yet: only '{ProxyScheme}:' URIs (artifacts proxied by the tracking server, 'mlflow server --serve-artifacts') can be read and written by this client.");
        }

        var rest = artifactUri[(colon + 1)..];
        string? authority = null;
        if (rest.StartsWith("//", StringComparison.Ordinal))
        {
            var end = rest.IndexOf('/', 2);
            authority = end < 0 ? rest[2..] : rest[2..end];
            rest = end < 0 ? "" : rest[end..];
            var at = authority.LastIndexOf('@');
            if (at >= 0)
            {
                authority = authority[(at + 1)..]; // never forward user info found in a URI
            }

            if (authority.Length == 0)
            {
                authority = null;
            }
            else if (authority.StartsWith(':') || authority.Contains('/', StringComparison.Ordinal))
            {
                throw new MlflowValidationException(artifactUri, "the host of the artifact URI is missing or malformed", "artifact URI");
            }
        }

        var cut = rest.IndexOfAny(['?', '#']);
        if (cut >= 0)
        {
            rest = rest[..cut];
        }

        var decoded = Uri.UnescapeDataString(rest).TrimStart('/');
        return new ProxyRoot(authority, decoded.Length == 0 ? [] : SplitChecked(decoded, "artifact URI path", allowEmpty: true));
    }

    /// <summary>
    /// Checks a path relative to an artifact root and returns its segments. Refused (as the server would, but before
    /// sending): absolute paths, <c>..</c> segments, backslashes, <c>#</c>, NUL and drive letters.
    /// </summary>
    public static IReadOnlyList<string> SplitRelativePath(string? path, bool allowEmpty)
    {
        if (string.IsNullOrEmpty(path))
        {
            return allowEmpty ? [] : throw new MlflowValidationException(path, "an artifact path is required", "artifact path");
        }

        if (path.StartsWith('/'))
        {
            throw new MlflowValidationException(path, "must be relative to the artifact root, not absolute", "artifact path");
        }

        var segments = SplitChecked(path, "artifact path", allowEmpty);
        return segments;
    }

    private static List<string> SplitChecked(string path, string subject, bool allowEmpty)
    {
        if (path.Contains('\\', StringComparison.Ordinal))
        {
            throw new MlflowValidationException(path, "must not contain a backslash", subject);
        }

        if (path.Contains('#', StringComparison.Ordinal))
        {
            throw new MlflowValidationException(path, "must not contain '#'", subject);
        }

        if (path.Contains('\0', StringComparison.Ordinal))
        {
            throw new MlflowValidationException(path, "must not contain a NUL character", subject);
        }

        if (path.Length >= 2 && char.IsAsciiLetter(path[0]) && path[1] == ':')
        {
            throw new MlflowValidationException(path, "must not start with a drive letter", subject);
        }

        var segments = new List<string>();
        foreach (var segment in path.Split('/'))
        {
            if (segment == "..")
            {
                throw new MlflowValidationException(path, "must not contain '..' segments", subject);
            }

            if (segment.Length > 0 && segment != ".")
            {
                segments.Add(segment);
            }
        }

        if (segments.Count == 0 && !allowEmpty)
        {
            throw new MlflowValidationException(path, "names no file under the artifact root", subject);
        }

        return segments;
    }

    /// <summary>Joins segments with <c>/</c>, each percent-encoded.</summary>
    public static string EncodeSegments(IEnumerable<string> segments)
    {
        var sb = new StringBuilder();
        foreach (var segment in segments)
        {
            if (sb.Length > 0)
            {
                sb.Append('/');
            }

            sb.Append(Uri.EscapeDataString(segment));
        }

        return sb.ToString();
    }

    /// <summary>Scheme, authority and path prefix of the server the proxy call goes to: the tracking server, unless the artifact URI names a host.</summary>
    public static string ServerBase(Uri trackingBase, string? authority)
    {
        var prefix = trackingBase.AbsolutePath.TrimEnd('/');
        return trackingBase.Scheme + "://" + (authority ?? trackingBase.Authority) + prefix;
    }

    /// <summary>The proxy URL of a file (or folder) under an artifact root.</summary>
    public static Uri FileUri(Uri trackingBase, ProxyRoot root, IReadOnlyList<string> relative)
    {
        var path = EncodeSegments(root.Segments.Concat(relative));
        return new Uri(ServerBase(trackingBase, root.Authority) + ProxyApiPath + "/" + path);
    }

    /// <summary>The URL that asks for a presigned download URL of a file under an artifact root (MLflow 3).</summary>
    public static Uri PresignedUri(Uri trackingBase, ProxyRoot root, IReadOnlyList<string> relative)
    {
        var path = EncodeSegments(root.Segments.Concat(relative));
        return new Uri(ServerBase(trackingBase, root.Authority) + PresignedApiPath + "/" + path);
    }

    /// <summary>The proxy listing URL of a folder under an artifact root (<c>?path=</c> relative to the proxied store).</summary>
    public static Uri ListUri(Uri trackingBase, ProxyRoot root, IReadOnlyList<string> relative)
    {
        var joined = string.Join('/', root.Segments.Concat(relative));
        var url = ServerBase(trackingBase, root.Authority) + ProxyApiPath;
        return new Uri(joined.Length == 0 ? url : url + "?path=" + Uri.EscapeDataString(joined));
    }
}
