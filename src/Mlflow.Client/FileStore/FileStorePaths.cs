using System.Text;

namespace Mlflow.Client.FileStore;

/// <summary>
/// Turns keys, ids and artifact paths into file paths that cannot leave the store's root and stay valid on every
/// operating system (so a store written on Linux opens on Windows): MLflow's key rules, then file-name rules per
/// segment, then a final check that the full path is under the root.
/// </summary>
internal static class FileStorePaths
{
    /// <summary>Longest file-name segment, in UTF-8 bytes (ext4, APFS, NTFS-ish).</summary>
    public const int MaxSegmentBytes = 255;

    private static readonly StringComparison PathComparison = OperatingSystem.IsWindows() || OperatingSystem.IsMacOS()
        ? StringComparison.OrdinalIgnoreCase
        : StringComparison.Ordinal;

    /// <summary>The key rule of a run: MLflow's, plus the portable file-name rule when the run may write to a local store.</summary>
    /// <param name="key">The key.</param>
    /// <param name="kind">What the key names, for the message.</param>
    /// <param name="storable">Whether the key must also be a portable file name; else MLflow's rule alone.</param>
    /// <exception cref="MlflowValidationException">The key breaks a rule; the message names the key and the rule.</exception>
    public static void ValidateKey(string? key, string kind, bool storable)
    {
        if (storable)
        {
            ValidateKey(key, kind);
        }
        else
        {
            MlflowValidation.ValidateKey(key!, kind);
        }
    }

    /// <summary>
    /// Checks a metric, param or tag key as MLflow does and as a portable relative file path: the one rule for every key
    /// that may be written to a local store (by the store itself, and on the caller's thread by a tracker whose runs may
    /// write to one).
    /// </summary>
    /// <exception cref="MlflowValidationException">The key breaks a rule; the message names the key and the rule.</exception>
    public static void ValidateKey(string? key, string kind)
    {
        MlflowValidation.ValidateKey(key!, kind);
        if (!ArePortableSegments(key!, out var rule))
        {
            throw new MlflowValidationException(key, "a key is a file name in the local store, and " + rule, kind);
        }
    }

    /// <summary>Checks a relative artifact path: '/'-separated portable file-name segments (any printable characters otherwise).</summary>
    public static void ValidateArtifactPath(string path)
    {
        const string Kind = "artifact path";
        if (string.IsNullOrEmpty(path))
        {
            throw new MlflowValidationException(path, "an artifact path must not be empty", Kind);
        }

        if (path[0] == '/' || (path.Length >= 2 && path[1] == ':' && char.IsAsciiLetter(path[0])))
        {
            throw new MlflowValidationException(path, "an artifact path must be relative", Kind);
        }

        foreach (var c in path)
        {
            if (char.IsControl(c))
            {
                throw new MlflowValidationException(path, $"an artifact path must not contain control characters (found U+{(int)c:X4})", Kind);
            }

            if (c is '\\' or ':' or '*' or '?' or '"' or '<' or '>' or '|')
            {
                throw new MlflowValidationException(path, $"an artifact path must not contain '{c}' (not portable to every file system)", Kind);
            }
        }

        if (!IsWellFormedUtf16(path))
        {
            throw new MlflowValidationException(path, "an artifact path must not contain a lone UTF-16 surrogate", Kind);
        }

        foreach (var segment in path.Split('/'))
        {
            if (segment.Length == 0)
            {
                throw new MlflowValidationException(path, "an artifact path must not contain an empty segment ('//' or a trailing '/')", Kind);
            }

            if (segment is "." or "..")
            {
                throw new MlflowValidationException(path, "an artifact path must not contain a '.' or '..' segment", Kind);
            }
        }

        ValidateSegments(path, Kind);
    }

    /// <summary>Per-segment file-name rules for every OS: no device names, no trailing dot or space, at most 255 UTF-8 bytes, no NUL, '\', ':'.</summary>
    public static void ValidateSegments(string relativePath, string kind)
    {
        if (!ArePortableSegments(relativePath, out var rule))
        {
            throw new MlflowValidationException(relativePath, rule!, kind);
        }
    }

    /// <summary>Whether every '/'-separated segment is a portable file name (<see cref="IsPortableFileName"/>); allocates nothing when it is.</summary>
    private static bool ArePortableSegments(string relativePath, out string? rule)
    {
        var start = 0;
        while (start <= relativePath.Length)
        {
            var end = relativePath.IndexOf('/', start);
            if (end < 0)
            {
                end = relativePath.Length;
            }

            if (!IsPortableFileName(relativePath.AsSpan(start, end - start), out rule))
            {
                return false;
            }

            start = end + 1;
        }

        rule = null;
        return true;
    }

    /// <summary>Whether one path segment is a file name every common OS accepts.</summary>
    public static bool IsPortableFileName(ReadOnlySpan<char> segment, out string? rule)
    {
        if (segment.IsEmpty)
        {
            rule = "a path segment must not be empty";
            return false;
        }

        if (segment.IndexOfAny('\0', '\\', ':') >= 0)
        {
            rule = "a path segment must not contain NUL, '\\' or ':'";
            return false;
        }

        if (segment[^1] is '.' or ' ')
        {
            rule = "a path segment must not end with '.' or ' ' (Windows drops them)";
            return false;
        }

        if (IsWindowsDeviceName(segment))
        {
            rule = $"'{segment.ToString()}' is a reserved device name on Windows (con, prn, aux, nul, com1-9, lpt1-9, with or without extension)";
            return false;
        }

        if (Encoding.UTF8.GetByteCount(segment) > MaxSegmentBytes)
        {
            rule = $"a path segment may be at most {MaxSegmentBytes} bytes long in UTF-8";
            return false;
        }

        rule = null;
        return true;
    }

    private static bool IsWindowsDeviceName(ReadOnlySpan<char> segment)
    {
        var dot = segment.IndexOf('.');
        var stem = (dot < 0 ? segment : segment[..dot]).TrimEnd(' ');
        if (stem.Length == 3)
        {
            return stem.Equals("con", StringComparison.OrdinalIgnoreCase) || stem.Equals("prn", StringComparison.OrdinalIgnoreCase)
                || stem.Equals("aux", StringComparison.OrdinalIgnoreCase) || stem.Equals("nul", StringComparison.OrdinalIgnoreCase);
        }

        if (stem.Length == 4 && (stem.StartsWith("com", StringComparison.OrdinalIgnoreCase) || stem.StartsWith("lpt", StringComparison.OrdinalIgnoreCase)))
        {
            var d = stem[3];
            return d is >= '1' and <= '9' or '\u00B9' or '\u00B2' or '\u00B3';
        }

        return false;
    }

    /// <summary>Joins a validated relative '/'-path to a base folder and checks the result stays under <paramref name="root"/>.</summary>
    /// <exception cref="MlflowValidationException">The path would leave the root.</exception>
    public static string Combine(string root, string baseFolder, string relativePath, string kind)
    {
        var full = Path.GetFullPath(Path.Combine(baseFolder, relativePath.Replace('/', Path.DirectorySeparatorChar)));
        EnsureUnder(root, full, relativePath, kind);
        return full;
    }

    /// <summary>Throws unless <paramref name="fullPath"/> is strictly inside <paramref name="root"/>.</summary>
    public static void EnsureUnder(string root, string fullPath, string? subject, string kind, string rootName = "the store's root folder")
    {
        var prefix = root.EndsWith(Path.DirectorySeparatorChar) ? root : root + Path.DirectorySeparatorChar;
        if (!fullPath.StartsWith(prefix, PathComparison))
        {
            throw new MlflowValidationException(subject, "the path would leave " + rootName, kind);
        }
    }

    /// <summary>Whether two full paths name the same file on this OS.</summary>
    public static StringComparer PathComparer { get; } = PathComparison == StringComparison.Ordinal ? StringComparer.Ordinal : StringComparer.OrdinalIgnoreCase;

    /// <summary>An absolute local path as a <c>file://</c> URI, percent-encoded as Python's <c>pathlib.Path.as_uri</c> does.</summary>
    public static string ToFileUri(string absolutePath)
    {
        var path = absolutePath.Replace('\\', '/');
        var sb = new StringBuilder("file://");
        if (path.Length >= 2 && path[1] == ':' && char.IsAsciiLetter(path[0]))
        {
            sb.Append('/').Append(path[0]).Append(':');
            path = path[2..];
        }

        foreach (var b in Encoding.UTF8.GetBytes(path))
        {
            var c = (char)b;
            if (char.IsAsciiLetterOrDigit(c) || c is '_' or '.' or '-' or '~' or '/')
            {
                sb.Append(c);
            }
            else
            {
                sb.Append('%').Append(b.ToString("X2", System.Globalization.CultureInfo.InvariantCulture));
            }
        }

        return sb.ToString();
    }

    /// <summary>The local path of a <c>file:</c> URI (<c>file:///abs</c>, <c>file://localhost/abs</c>, <c>file:/abs</c>, <c>file:rel</c>).</summary>
    public static string FromFileUri(string uri)
    {
        var rest = uri["file:".Length..];
        if (rest.StartsWith("//", StringComparison.Ordinal))
        {
            rest = rest[2..];
            var slash = rest.IndexOf('/', StringComparison.Ordinal);
            var host = slash < 0 ? rest : rest[..slash];
            if (host.Length > 0 && !host.Equals("localhost", StringComparison.OrdinalIgnoreCase))
            {
                throw new ArgumentException($"A file URI with a remote host ('{host}') is not a local folder: {uri}", nameof(uri));
            }

            rest = slash < 0 ? "/" : rest[slash..];
        }

        rest = Uri.UnescapeDataString(rest);
        // file:///C:/x -> C:/x on Windows
        if (rest.Length >= 3 && rest[0] == '/' && rest[2] == ':' && char.IsAsciiLetter(rest[1]))
        {
            rest = rest[1..];
        }

        return rest;
    }

    private static bool IsWellFormedUtf16(string s)
    {
        for (var i = 0; i < s.Length; i++)
        {
            if (char.IsHighSurrogate(s[i]) && i + 1 < s.Length && char.IsLowSurrogate(s[i + 1]))
            {
                i++;
            }
            else if (char.IsSurrogate(s[i]))
            {
                return false;
            }
        }

        return true;
    }
}
