using System.Globalization;
using System.Text;

namespace Mlflow.Client.FileStore;

// Reading meta.yaml: the block mapping subset MLflow's FileStore writes (MiniYaml.cs writes it).
internal static partial class MiniYaml
{
    /// <summary>
    /// Reads a top-level block mapping. Values: <see cref="string"/>, <see cref="long"/>, <see cref="double"/>,
    /// <see cref="bool"/>, <see langword="null"/>, <see cref="EmptyList"/> or <see cref="Mapping"/>.
    /// </summary>
    /// <exception cref="FormatException">The text is not in the supported subset.</exception>
    public static Dictionary<string, object?> Read(string text)
    {
        var result = new Dictionary<string, object?>(StringComparer.Ordinal);
        var lines = text.Replace("\r\n", "\n", StringComparison.Ordinal).Split('\n');
        var i = 0;
        while (i < lines.Length)
        {
            var line = lines[i];
            if (line.Length == 0 || line.TrimStart().StartsWith('#') || line == "---")
            {
                i++;
                continue;
            }

            if (line[0] == ' ')
            {
                throw new FormatException($"Unexpected indentation at line {i + 1}.");
            }

            var (key, rest) = SplitKey(line, i);
            i++;
            // Continuation lines: anything more indented belongs to this entry.
            var continuation = new List<string>();
            if (rest.Length > 0 && rest[0] is '\'' or '"' && FindClosingQuote(rest, 0) < 0)
            {
                // A multi-line quoted scalar (may hold blank lines): read up to its closing quote.
                var joined = rest;
                while (i < lines.Length && FindClosingQuote(joined, 0) < 0)
                {
                    continuation.Add(lines[i]);
                    joined += "\n" + lines[i];
                    i++;
                }
            }
            else
            {
                while (i < lines.Length && lines[i].Length > 0 && lines[i][0] is ' ' or '\t')
                {
                    continuation.Add(lines[i]);
                    i++;
                }
            }

            result[key] = ParseValue(rest, continuation, i);
        }

        return result;
    }

    private static (string Key, string Remainder) SplitKey(string line, int lineIndex)
    {
        string key;
        int after;
        if (line[0] is '\'' or '"')
        {
            var end = FindClosingQuote(line, 0);
            if (end < 0)
            {
                throw new FormatException($"Unterminated quoted key at line {lineIndex + 1}.");
            }

            key = ParseQuoted(line[..(end + 1)]);
            after = end + 1;
            if (after >= line.Length || line[after] != ':')
            {
                throw new FormatException($"Expected ':' after key at line {lineIndex + 1}.");
            }
        }
        else
        {
            after = line.IndexOf(": ", StringComparison.Ordinal);
            if (after < 0)
            {
                if (line.EndsWith(':'))
                {
                    after = line.Length - 1;
                }
                else
                {
                    throw new FormatException($"Expected 'key: value' at line {lineIndex + 1}.");
                }
            }

            key = line[..after];
        }

        return (key, line[(after + 1)..].Trim(' '));
    }

    private static int FindClosingQuote(string s, int start)
    {
        var quote = s[start];
        for (var i = start + 1; i < s.Length; i++)
        {
            if (quote == '\'' && s[i] == '\'')
            {
                if (i + 1 < s.Length && s[i + 1] == '\'')
                {
                    i++;
                    continue;
                }

                return i;
            }

            if (quote == '"')
            {
                if (s[i] == '\\')
                {
                    i++;
                    continue;
                }

                if (s[i] == '"')
                {
                    return i;
                }
            }
        }

        return -1;
    }

    private static object? ParseValue(string rest, List<string> continuation, int lineIndex)
    {
        if (rest.Length == 0)
        {
            if (continuation.Count == 0)
            {
                return null;
            }

            var first = continuation[0].TrimStart();
            if (first.StartsWith("- ", StringComparison.Ordinal) || first == "-")
            {
                return EmptyList.Instance; // legacy run tags lists are ignored (tags live in files)
            }

            var entries = new List<KeyValuePair<string, string>>();
            foreach (var raw in continuation)
            {
                var trimmed = raw.TrimStart();
                if (trimmed.Length == 0)
                {
                    continue;
                }

                var (k, v) = SplitKey(trimmed, lineIndex);
                var parsed = ParseValue(v, [], lineIndex);
                entries.Add(new(k, parsed switch
                {
                    null => "",
                    string s => s,
                    IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
                    _ => parsed.ToString() ?? "",
                }));
            }

            return new Mapping(entries);
        }

        if (rest is "[]")
        {
            return EmptyList.Instance;
        }

        if (rest is "{}")
        {
            return new Mapping([]);
        }

        if (rest[0] is '\'' or '"')
        {
            var full = continuation.Count == 0 ? rest : rest + "\n" + string.Join('\n', continuation);
            return ParseQuoted(full);
        }

        var plain = continuation.Count == 0 ? rest : Fold([rest, .. continuation.Select(c => c.Trim(' ', '\t'))]);
        return ResolvePlain(plain);
    }

    private static object? ResolvePlain(string plain)
    {
        if (plain is "~" or "null" or "Null" or "NULL" or "")
        {
            return null;
        }

        if (ResolvesAsString(plain))
        {
            return plain;
        }

        if (plain is "true" or "True" or "TRUE" or "yes" or "Yes" or "YES" or "on" or "On" or "ON")
        {
            return true;
        }

        if (plain is "false" or "False" or "FALSE" or "no" or "No" or "NO" or "off" or "Off" or "OFF")
        {
            return false;
        }

        var cleaned = plain.Replace("_", "", StringComparison.Ordinal);
        if (long.TryParse(cleaned, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var l))
        {
            return l;
        }

        if (PythonFloat.TryParse(cleaned.Replace(".inf", "inf", StringComparison.OrdinalIgnoreCase).Replace(".nan", "nan", StringComparison.OrdinalIgnoreCase), out var d))
        {
            return d;
        }

        return plain; // timestamps and other exotic forms: keep the text
    }

    /// <summary>YAML line folding of a multi-line flow scalar: one break becomes a space, n+1 breaks become n newlines.</summary>
    private static string Fold(IReadOnlyList<string> lines)
    {
        var sb = new StringBuilder();
        var pendingBreaks = 0;
        for (var i = 0; i < lines.Count; i++)
        {
            var l = lines[i];
            if (i > 0 && l.Length == 0)
            {
                pendingBreaks++;
                continue;
            }

            if (i > 0)
            {
                if (pendingBreaks == 0)
                {
                    sb.Append(' ');
                }
                else
                {
                    sb.Append('\n', pendingBreaks);
                }
            }

            pendingBreaks = 0;
            sb.Append(l);
        }

        return sb.ToString();
    }

    private static string ParseQuoted(string text)
    {
        var quote = text[0];
        var end = FindClosingQuote(text, 0);
        if (end < 0)
        {
            throw new FormatException("Unterminated quoted scalar.");
        }

        var body = text[1..end];
        if (quote == '\'')
        {
            var lines = body.Split('\n');
            var folded = lines.Length == 1 ? body : Fold([lines[0].TrimEnd(' ', '\t'), .. lines.Skip(1).Select(l => l.Trim(' ', '\t'))]);
            return folded.Replace("''", "'", StringComparison.Ordinal);
        }

        return UnescapeDoubleQuoted(body);
    }

    private static string UnescapeDoubleQuoted(string body)
    {
        var sb = new StringBuilder(body.Length);
        var i = 0;
        while (i < body.Length)
        {
            var ch = body[i];
            if (ch == '\\')
            {
                if (i + 1 >= body.Length)
                {
                    throw new FormatException("Dangling escape in double-quoted scalar.");
                }

                var e = body[i + 1];
                i += 2;
                switch (e)
                {
                    case '0': sb.Append('\0'); break;
                    case 'a': sb.Append('\a'); break;
                    case 'b': sb.Append('\b'); break;
                    case 't' or '\t': sb.Append('\t'); break;
                    case 'n': sb.Append('\n'); break;
                    case 'v': sb.Append('\v'); break;
                    case 'f': sb.Append('\f'); break;
                    case 'r': sb.Append('\r'); break;
                    case 'e': sb.Append('\x1B'); break;
                    case ' ': sb.Append(' '); break;
                    case '"': sb.Append('"'); break;
                    case '/': sb.Append('/'); break;
                    case '\\': sb.Append('\\'); break;
                    case 'N': sb.Append('\u0085'); break;
                    case '_': sb.Append('\u00A0'); break;
                    case 'L': sb.Append('\u2028'); break;
                    case 'P': sb.Append('\u2029'); break;
                    case 'x': sb.Append((char)int.Parse(body.AsSpan(i, 2), NumberStyles.HexNumber, CultureInfo.InvariantCulture)); i += 2; break;
                    case 'u': sb.Append((char)int.Parse(body.AsSpan(i, 4), NumberStyles.HexNumber, CultureInfo.InvariantCulture)); i += 4; break;
                    case 'U': sb.Append(char.ConvertFromUtf32(int.Parse(body.AsSpan(i, 8), NumberStyles.HexNumber, CultureInfo.InvariantCulture))); i += 8; break;
                    case '\n':
                        // Escaped line break: nothing, and the next line's leading blanks are dropped.
                        while (i < body.Length && body[i] is ' ' or '\t')
                        {
                            i++;
                        }

                        break;
                    default:
                        throw new FormatException($"Unknown escape '\\{e}' in double-quoted scalar.");
                }

                continue;
            }

            if (ch == '\n')
            {
                // Folding: trailing blanks before the break were already appended; remove them.
                while (sb.Length > 0 && sb[^1] is ' ' or '\t')
                {
                    sb.Length--;
                }

                var breaks = 0;
                while (i < body.Length && body[i] is '\n' or ' ' or '\t')
                {
                    if (body[i] == '\n')
                    {
                        breaks++;
                    }

                    i++;
                }

                if (breaks == 1)
                {
                    sb.Append(' ');
                }
                else
                {
                    sb.Append('\n', breaks - 1);
                }

                continue;
            }

            sb.Append(ch);
            i++;
        }

        return sb.ToString();
    }
}
