using System.Buffers;
using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text;

namespace Mlflow.Client;

/// <summary>
/// The server's own input rules, checked on the caller's thread before anything is queued, sent or written.
/// The real server lets some bad input through and stores garbage, so this is the only guard.
/// </summary>
internal static class MlflowValidation
{
    // ASCII fast path: letters, digits, '_', '-', '.', ' ', '/'.
    private static readonly bool[] AsciiKeyChars = BuildAsciiTable();

    /// <summary>Checks a metric, param or tag key; throws <see cref="MlflowValidationException"/> naming the key and the rule.</summary>
    /// <param name="key">The key.</param>
    /// <param name="kind">"metric key", "param key" or "tag key", for the message.</param>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void ValidateKey(string key, string kind)
    {
        if (!IsValidKey(key, out var rule))
        {
            throw new MlflowValidationException(key, rule!, kind);
        }
    }

    /// <summary>Whether a key follows the server's rules; <paramref name="rule"/> says which one it breaks.</summary>
    public static bool IsValidKey(string? key, out string? rule)
    {
        if (string.IsNullOrEmpty(key))
        {
            rule = "a key must not be empty";
            return false;
        }

        var ascii = true;
        foreach (var c in key)
        {
            if (c >= 128)
            {
                ascii = false;
                break;
            }

            if (!AsciiKeyChars[c])
            {
                rule = $"a key may hold only letters, digits, '_', '-', '.', ' ' and '/' (found {Describe(c)})";
                return false;
            }
        }

        if (ascii)
        {
            if (key.Length > MlflowLimits.MaxKeyLength)
            {
                rule = $"a key may be at most {MlflowLimits.MaxKeyLength} characters long (it has {key.Length})";
                return false;
            }
        }
        else if (!CheckUnicodeKey(key, out rule))
        {
            return false;
        }

        return IsNormalizedRelativePath(key, out rule);
    }

    private static bool CheckUnicodeKey(string key, out string? rule)
    {
        var count = 0;
        var index = 0;
        while (index < key.Length)
        {
            if (Rune.DecodeFromUtf16(key.AsSpan(index), out var rune, out var used) != OperationStatus.Done)
            {
                rule = "a key must not contain a lone UTF-16 surrogate";
                return false;
            }

            if (!IsKeyRune(rune))
            {
                rule = $"a key may hold only letters, digits, '_', '-', '.', ' ' and '/' (found {Describe(rune)})";
                return false;
            }

            index += used;
            count++;
        }

        if (count > MlflowLimits.MaxKeyLength)
        {
            rule = $"a key may be at most {MlflowLimits.MaxKeyLength} characters long (it has {count})";
            return false;
        }

        rule = null;
        return true;
    }

    /// <summary>
    /// MLflow's <c>path_not_unique</c>: a key is a relative file path in a file-backed store, so it must be its own POSIX
    /// normal form (<c>posixpath.normpath</c>: no '//', no '.' or '..' segment, no trailing '/') and must not start with
    /// '/' or '..' (MLflow 2.12.2 refuses <c>..a</c> too, which would otherwise break reading the whole experiment).
    /// </summary>
    private static bool IsNormalizedRelativePath(string key, out string? rule)
    {
        if (key[0] == '/')
        {
            rule = "a key must be a relative path (it starts with '/')";
            return false;
        }

        if (key.StartsWith("..", StringComparison.Ordinal))
        {
            rule = "a key must not start with '..' (MLflow reads it as a path outside the run)";
            return false;
        }

        if (key[^1] == '/')
        {
            rule = "a key must not end with '/'";
            return false;
        }

        var start = 0;
        while (start <= key.Length)
        {
            var end = key.IndexOf('/', start);
            if (end < 0)
            {
                end = key.Length;
            }

            var segment = key.AsSpan(start, end - start);
            if (segment.IsEmpty)
            {
                rule = "a key must not contain '//'";
                return false;
            }

            if (segment is "." or "..")
            {
                rule = "a key must not contain a '.' or '..' path segment";
                return false;
            }

            start = end + 1;
        }

        rule = null;
        return true;
    }

    /// <summary>Python's <c>\w</c> (letters, numbers, underscore) plus '-', '.', ' ', '/'. Combining marks are not word characters.</summary>
    private static bool IsKeyRune(Rune rune)
    {
        if (rune.IsAscii)
        {
            return AsciiKeyChars[rune.Value];
        }

        return Rune.GetUnicodeCategory(rune) switch
        {
            UnicodeCategory.UppercaseLetter or UnicodeCategory.LowercaseLetter or UnicodeCategory.TitlecaseLetter
                or UnicodeCategory.ModifierLetter or UnicodeCategory.OtherLetter
                or UnicodeCategory.DecimalDigitNumber or UnicodeCategory.LetterNumber or UnicodeCategory.OtherNumber => true,
            _ => false,
        };
    }

    /// <summary>Checks a value for lone surrogates (the server would store an empty string) and returns its length in code points.</summary>
    public static int CodePointLength(string value, string key, string kind)
    {
        var count = 0;
        for (var i = 0; i < value.Length; i++)
        {
            var c = value[i];
            if (char.IsSurrogate(c))
            {
                if (char.IsHighSurrogate(c) && i + 1 < value.Length && char.IsLowSurrogate(value[i + 1]))
                {
                    i++;
                }
                else
                {
                    throw new MlflowValidationException(key, $"the {kind} value contains a lone UTF-16 surrogate at index {i}", kind);
                }
            }

            count++;
        }

        return count;
    }

    /// <summary>
    /// Checks a param or tag value against a limit in code points. Over-long values are cut at the limit (never inside a
    /// surrogate pair) when <paramref name="truncate"/> is set, as the server does; otherwise they are refused.
    /// </summary>
    /// <returns>The value, cut if it had to be.</returns>
    public static string CheckValue(string? value, int maxLength, bool truncate, string key, string kind, out bool truncated)
    {
        truncated = false;
        value ??= "";
        if (value.Length <= maxLength && !ContainsSurrogate(value))
        {
            return value;
        }

        var length = CodePointLength(value, key, kind);
        if (length <= maxLength)
        {
            return value;
        }

        if (!truncate)
        {
            throw new MlflowValidationException(key, $"the {kind} value may be at most {maxLength} characters long (it has {length})", kind);
        }

        truncated = true;
        var index = 0;
        for (var n = 0; n < maxLength; n++)
        {
            index += char.IsHighSurrogate(value[index]) ? 2 : 1;
        }

        return value[..index];
    }

    /// <summary>Checks a metric timestamp (milliseconds, not negative).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void ValidateTimestamp(long timestamp, string key)
    {
        if (timestamp < 0)
        {
            throw new MlflowValidationException(key, $"a metric timestamp must not be negative (got {timestamp})", "metric key");
        }
    }

    /// <summary>Checks a run id: <c>^[A-Za-z0-9][\w-]{0,255}$</c> in ASCII, so it is also a safe folder name.</summary>
    public static void ValidateRunId(string? runId)
    {
        if (!IsSafeId(runId, 256))
        {
            throw new MlflowValidationException(runId, "a run id must start with a letter or digit and hold only letters, digits, '_' and '-' (at most 256 characters)", "run id");
        }
    }

    /// <summary>Checks an experiment id: <c>^[A-Za-z0-9][\w-]{0,63}$</c> in ASCII.</summary>
    public static void ValidateExperimentId(string? experimentId)
    {
        if (!IsSafeId(experimentId, 64))
        {
            throw new MlflowValidationException(experimentId, "an experiment id must start with a letter or digit and hold only letters, digits, '_' and '-' (at most 64 characters)", "experiment id");
        }
    }

    /// <summary>Checks an experiment name: not empty, at most 500 code points, no lone surrogate.</summary>
    public static void ValidateExperimentName(string? name)
    {
        if (string.IsNullOrWhiteSpace(name))
        {
            throw new MlflowValidationException(name, "an experiment name must not be empty", "experiment name");
        }

        if (CodePointLength(name, name, "experiment name") > MlflowLimits.MaxExperimentNameLength)
        {
            throw new MlflowValidationException(name, $"an experiment name may be at most {MlflowLimits.MaxExperimentNameLength} characters long", "experiment name");
        }
    }

    private static bool IsSafeId(string? id, int maxLength)
    {
        if (string.IsNullOrEmpty(id) || id.Length > maxLength || !char.IsAsciiLetterOrDigit(id[0]))
        {
            return false;
        }

        foreach (var c in id)
        {
            if (!(char.IsAsciiLetterOrDigit(c) || c is '_' or '-'))
            {
                return false;
            }
        }

        return true;
    }

    private static bool ContainsSurrogate(string value)
    {
        foreach (var c in value)
        {
            if (char.IsSurrogate(c))
            {
                return true;
            }
        }

        return false;
    }

    private static string Describe(char c) => c < 32 || c == 127 ? $"U+{(int)c:X4}" : $"'{c}'";

    private static string Describe(Rune r) => Rune.IsControl(r) || Rune.GetUnicodeCategory(r) is UnicodeCategory.NonSpacingMark or UnicodeCategory.Format
        ? $"U+{r.Value:X4}"
        : $"'{r}' (U+{r.Value:X4})";

    private static bool[] BuildAsciiTable()
    {
        var table = new bool[128];
        for (var c = 0; c < 128; c++)
        {
            table[c] = char.IsAsciiLetterOrDigit((char)c) || c is '_' or '-' or '.' or ' ' or '/';
        }

        return table;
    }
}
