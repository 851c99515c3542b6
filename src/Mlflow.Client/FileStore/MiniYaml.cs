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
}
