using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace Mlflow.Client.FileStore;

/// <summary>
/// The small YAML subset of MLflow's <c>meta.yaml</c> files, written the way PyYAML's safe dumper writes them
/// (<c>default_flow_style=False</c>, <c>allow_unicode=True</c>, sorted keys): a top-level block mapping of scalars,
/// <c>null</c>, integers, <c>[]</c>, <c>{}</c> and one level of nested string mapping (experiment tags in
/// <c>.trash</c>). Strings are plain when PyYAML would write them plain (never when they would read back as another
/// type: <c>'123'</c>, <c>'null'</c>, <c>'true'</c>, <c>''</c>), single-quoted when that is enough, double-quoted with
/// escapes otherwise. Deviations from PyYAML, all still valid YAML that PyYAML reads back to the same value: strings
/// with line breaks are always double-quoted (PyYAML may fold them into a single-quoted block) and long lines are never
/// wrapped at 80 columns.
/// </summary>
internal static partial class MiniYaml
{
    /// <summary>A mapping value written as <c>{}</c> when empty or a nested block mapping otherwise.</summary>
    internal sealed record Mapping(IReadOnlyList<KeyValuePair<string, string>> Entries);

    /// <summary>The empty sequence <c>[]</c>.</summary>
    internal sealed record EmptyList
    {
        public static readonly EmptyList Instance = new();
    }

    /// <summary>Writes a mapping with keys sorted (ordinal, as Python sorts ASCII keys). Values: string, long, int, null, <see cref="EmptyList"/>, <see cref="Mapping"/>.</summary>
    public static string Write(IEnumerable<KeyValuePair<string, object?>> entries)
    {
        var sb = new StringBuilder(512);
        foreach (var (key, value) in entries.OrderBy(e => e.Key, StringComparer.Ordinal))
        {
            sb.Append(Scalar(key, simpleKey: true)).Append(':');
            switch (value)
            {
                case null:
                    sb.Append(" null\n");
                    break;
                case string s:
                    sb.Append(' ').Append(Scalar(s, simpleKey: false)).Append('\n');
                    break;
                case long l:
                    sb.Append(' ').Append(l.ToString(CultureInfo.InvariantCulture)).Append('\n');
                    break;
                case int i:
                    sb.Append(' ').Append(i.ToString(CultureInfo.InvariantCulture)).Append('\n');
                    break;
                case EmptyList:
                    sb.Append(" []\n");
                    break;
                case Mapping m when m.Entries.Count == 0:
                    sb.Append(" {}\n");
                    break;
                case Mapping m:
                    sb.Append('\n');
                    foreach (var (k, v) in m.Entries.OrderBy(e => e.Key, StringComparer.Ordinal))
                    {
                        sb.Append("  ").Append(Scalar(k, simpleKey: true)).Append(": ").Append(Scalar(v, simpleKey: false)).Append('\n');
                    }

                    break;
                default:
                    throw new ArgumentException($"Unsupported YAML value type {value.GetType().Name} for key '{key}'.", nameof(entries));
            }
        }

        return sb.ToString();
    }

    /// <summary>One string scalar as PyYAML would emit it (see the type remarks for the deviations).</summary>
    public static string Scalar(string value, bool simpleKey = false)
    {
        var a = Analyze(value);
        if (!a.Empty && a.AllowBlockPlain && !(simpleKey && a.Multiline) && ResolvesAsString(value))
        {
            return value;
        }

        if (a.AllowSingleQuoted && !a.Multiline)
        {
            return "'" + value.Replace("'", "''", StringComparison.Ordinal) + "'";
        }

        return DoubleQuoted(value);
    }

    private readonly record struct Analysis(bool Empty, bool Multiline, bool AllowBlockPlain, bool AllowSingleQuoted);

    /// <summary>PyYAML's <c>Emitter.analyze_scalar</c>, for the block (non-flow) context.</summary>
    private static Analysis Analyze(string scalar)
    {
        if (scalar.Length == 0)
        {
            return new Analysis(true, false, false, true);
        }

        var blockIndicators = false;
        var lineBreaks = false;
        var specialCharacters = false;
        var leadingSpace = false;
        var leadingBreak = false;
        var trailingSpace = false;
        var trailingBreak = false;
        var breakSpace = false;
        var spaceBreak = false;

        if (scalar.StartsWith("---", StringComparison.Ordinal) || scalar.StartsWith("...", StringComparison.Ordinal))
        {
            blockIndicators = true;
        }

        var precededByWhitespace = true;
        var followedByWhitespace = scalar.Length == 1 || IsWhitespaceOrBreak(scalar[1]);
        var previousSpace = false;
        var previousBreak = false;
        for (var index = 0; index < scalar.Length; index++)
        {
            var ch = scalar[index];
            if (index == 0)
            {
                if ("#,[]{}&*!|>'\"%@`".Contains(ch, StringComparison.Ordinal))
                {
                    blockIndicators = true;
                }

                if (ch is '?' or ':' && followedByWhitespace)
                {
                    blockIndicators = true;
                }

                if (ch == '-' && followedByWhitespace)
                {
                    blockIndicators = true;
                }
            }
            else
            {
                if (ch == ':' && followedByWhitespace)
                {
                    blockIndicators = true;
                }

                if (ch == '#' && precededByWhitespace)
                {
                    blockIndicators = true;
                }
            }

            if (ch is '\n' or '\u0085' or '\u2028' or '\u2029')
            {
                lineBreaks = true;
            }

            if (!(ch == '\n' || (ch >= '\x20' && ch <= '\x7E')))
            {
                var printableUnicode = (ch == '\u0085' || (ch >= '\u00A0' && ch <= '\uD7FF') || (ch >= '\uE000' && ch <= '\uFFFD') || char.IsSurrogate(ch)) && ch != '\uFEFF';
                if (!printableUnicode)
                {
                    specialCharacters = true;
                }
            }

            if (ch == ' ')
            {
                if (index == 0)
                {
                    leadingSpace = true;
                }

                if (index == scalar.Length - 1)
                {
                    trailingSpace = true;
                }

                if (previousBreak)
                {
                    breakSpace = true;
                }

                previousSpace = true;
                previousBreak = false;
            }
            else if (ch is '\n' or '\u0085' or '\u2028' or '\u2029')
            {
                if (index == 0)
                {
                    leadingBreak = true;
                }

                if (index == scalar.Length - 1)
                {
                    trailingBreak = true;
                }

                if (previousSpace)
                {
                    spaceBreak = true;
                }

                previousSpace = false;
                previousBreak = true;
            }
            else
            {
                previousSpace = false;
                previousBreak = false;
            }

            precededByWhitespace = IsWhitespaceOrBreak(ch);
            followedByWhitespace = index + 2 >= scalar.Length || IsWhitespaceOrBreak(scalar[index + 2]);
        }

        var allowBlockPlain = true;
        var allowSingleQuoted = true;
        if (leadingSpace || leadingBreak || trailingSpace || trailingBreak)
        {
            allowBlockPlain = false;
        }

        if (breakSpace)
        {
            allowBlockPlain = false;
            allowSingleQuoted = false;
        }

        if (spaceBreak || specialCharacters)
        {
            allowBlockPlain = false;
            allowSingleQuoted = false;
        }

        if (lineBreaks || blockIndicators)
        {
            allowBlockPlain = false;
        }

        return new Analysis(false, lineBreaks, allowBlockPlain, allowSingleQuoted);
    }

    private static bool IsWhitespaceOrBreak(char c) => c is ' ' or '\t' or '\r' or '\n' or '\0' or '\u0085' or '\u2028' or '\u2029';

    /// <summary>Whether PyYAML's implicit resolvers would read the plain text back as a string (not bool, int, float, null, timestamp, merge, value).</summary>
    public static bool ResolvesAsString(string plain) => !NonStringPlain().IsMatch(plain);

    [GeneratedRegex(
        @"^(?:yes|Yes|YES|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|off|Off|OFF" +
        @"|[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+][0-9]+)?|\.[0-9_]+(?:[eE][-+][0-9]+)?|[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+\.[0-9_]*|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN)" +
        @"|[-+]?0b[0-1_]+|[-+]?0[0-7_]+|[-+]?(?:0|[1-9][0-9_]*)|[-+]?0x[0-9a-fA-F_]+|[-+]?[1-9][0-9_]*(?::[0-5]?[0-9])+" +
        @"|<<|~|null|Null|NULL|=" +
        @"|[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]|[0-9][0-9][0-9][0-9]-[0-9][0-9]?-[0-9][0-9]?(?:[Tt]|[ \t]+)[0-9][0-9]?:[0-9][0-9]:[0-9][0-9](?:\.[0-9]*)?(?:[ \t]*(?:Z|[-+][0-9][0-9]?(?::[0-9][0-9])?))?)$",
        RegexOptions.CultureInvariant)]
    private static partial Regex NonStringPlain();

    private static string DoubleQuoted(string value)
    {
        var sb = new StringBuilder(value.Length + 8);
        sb.Append('"');
        for (var i = 0; i < value.Length; i++)
        {
            var ch = value[i];
            switch (ch)
            {
                case '\0': sb.Append("\\0"); continue;
                case '\a': sb.Append("\\a"); continue;
                case '\b': sb.Append("\\b"); continue;
                case '\t': sb.Append("\\t"); continue;
                case '\n': sb.Append("\\n"); continue;
                case '\v': sb.Append("\\v"); continue;
                case '\f': sb.Append("\\f"); continue;
                case '\r': sb.Append("\\r"); continue;
                case '\x1B': sb.Append("\\e"); continue;
                case '"': sb.Append("\\\""); continue;
                case '\\': sb.Append("\\\\"); continue;
                case '\u0085': sb.Append("\\N"); continue;
                case '\u00A0': sb.Append("\\_"); continue;
                case '\u2028': sb.Append("\\L"); continue;
                case '\u2029': sb.Append("\\P"); continue;
                default:
                    break;
            }

            if ((ch >= '\x20' && ch <= '\x7E') || (ch >= '\u00A0' && ch <= '\uD7FF') || (ch >= '\uE000' && ch <= '\uFFFD' && ch != '\uFEFF'))
            {
                sb.Append(ch);
            }
            else if (char.IsHighSurrogate(ch) && i + 1 < value.Length && char.IsLowSurrogate(value[i + 1]))
            {
                sb.Append("\\U").Append(char.ConvertToUtf32(ch, value[i + 1]).ToString("X8", CultureInfo.InvariantCulture));
                i++;
            }
            else if (ch <= '\xFF')
            {
                sb.Append("\\x").Append(((int)ch).ToString("X2", CultureInfo.InvariantCulture));
            }
            else
            {
                sb.Append("\\u").Append(((int)ch).ToString("X4", CultureInfo.InvariantCulture));
            }
        }

        return sb.Append('"').ToString();
    }

    // ---------------------------------------------------------------- reading

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
