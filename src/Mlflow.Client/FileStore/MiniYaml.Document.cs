using System.Globalization;
using System.Text;

namespace Mlflow.Client.FileStore;

/// <summary>
/// Nested documents (an <c>MLmodel</c> file): block mappings and indentless sequences to any depth, written as
/// PyYAML's <c>safe_dump(default_flow_style=False)</c> writes them, including its folding of long plain and
/// single-quoted strings at 80 columns. Double-quoted strings are not folded (the one deviation; PyYAML reads them back the same).
/// </summary>
internal static partial class MiniYaml
{
    private const int BestWidth = 80;

    /// <summary>
    /// Writes a mapping with keys sorted. Values: <see langword="null"/>, string, int, long, double, bool, a nested mapping
    /// (<see cref="IEnumerable{T}"/> of string-keyed pairs) or a list (<see cref="IReadOnlyList{T}"/> of such values).
    /// </summary>
    public static string WriteDocument(IEnumerable<KeyValuePair<string, object?>> entries)
    {
        var w = new DocWriter();
        w.Mapping(entries.ToList(), 0, inSequence: false);
        return w.ToString();
    }

    /// <summary>
    /// A float as PyYAML's <c>represent_float</c> writes it: <c>.nan</c>, <c>.inf</c>, <c>-.inf</c>, else Python's
    /// <c>repr</c> in lower case with <c>.0</c> put before an exponent that has no point (<c>1.0e+17</c>), so that it
    /// reads back as a float.
    /// </summary>
    public static string Float(double value)
    {
        if (double.IsNaN(value))
        {
            return ".nan";
        }

        if (double.IsInfinity(value))
        {
            return value > 0 ? ".inf" : "-.inf";
        }

        var text = PythonFloat.Format(value).ToLowerInvariant();
        var exponent = text.IndexOf('e', StringComparison.Ordinal);
        return exponent >= 0 && !text.Contains('.', StringComparison.Ordinal) ? text.Insert(exponent, ".0") : text;
    }

    private sealed class DocWriter
    {
        private readonly StringBuilder _sb = new(1024);
        private int _column;

        public override string ToString() => _sb.ToString();

        /// <summary>A block mapping at <paramref name="indent"/>; its first key continues the current line when it is a sequence item.</summary>
        public void Mapping(IReadOnlyList<KeyValuePair<string, object?>> entries, int indent, bool inSequence)
        {
            var first = true;
            foreach (var (key, value) in entries.OrderBy(e => e.Key, StringComparer.Ordinal))
            {
                if (!(first && inSequence))
                {
                    Write(new string(' ', indent));
                }

                first = false;
                Write(Scalar(key, simpleKey: true) + ":");
                Value(value, indent);
            }
        }

        /// <summary>A block sequence with its dashes at <paramref name="indent"/>; its first item continues the current line when it is itself an item (<c>- - x</c>).</summary>
        private void Sequence(IReadOnlyList<object?> list, int indent, bool inSequence)
        {
            var first = true;
            foreach (var item in list)
            {
                if (!(first && inSequence))
                {
                    Write(new string(' ', indent));
                }

                first = false;
                Write("-");
                if (item is IEnumerable<KeyValuePair<string, object?>> m && m.Any())
                {
                    Write(" ");
                    Mapping(m.ToList(), indent + 2, inSequence: true);
                }
                else if (item is IReadOnlyList<object?> { Count: > 0 } inner)
                {
                    Write(" ");
                    Sequence(inner, indent + 2, inSequence: true);
                }
                else
                {
                    Value(item, indent);
                }
            }
        }

        private void Value(object? value, int indent)
        {
            switch (value)
            {
                case IEnumerable<KeyValuePair<string, object?>> map when map.Any():
                    NewLine();
                    Mapping(map.ToList(), indent + 2, inSequence: false);
                    break;
                case IEnumerable<KeyValuePair<string, object?>>:
                    Write(" {}");
                    NewLine();
                    break;
                case IReadOnlyList<object?> { Count: 0 }:
                    Write(" []");
                    NewLine();
                    break;
                case IReadOnlyList<object?> list:
                    NewLine();
                    Sequence(list, indent, inSequence: false);
                    break;
                default:
                    Write(" ");
                    ScalarValue(value, indent + 2);
                    NewLine();
                    break;
            }
        }

        private void ScalarValue(object? value, int indent)
        {
            switch (value)
            {
                case null:
                    Write("null");
                    break;
                case bool b:
                    Write(b ? "true" : "false");
                    break;
                case int i:
                    Write(i.ToString(CultureInfo.InvariantCulture));
                    break;
                case long l:
                    Write(l.ToString(CultureInfo.InvariantCulture));
                    break;
                case double d:
                    Write(Float(d));
                    break;
                case string s:
                    var styled = Scalar(s, simpleKey: false);
                    if (styled[0] == '\'')
                    {
                        Folded(s, indent, quoted: true);
                    }
                    else if (styled[0] == '"')
                    {
                        Write(styled);
                    }
                    else
                    {
                        Folded(s, indent, quoted: false);
                    }

                    break;
                default:
                    throw new ArgumentException($"Unsupported YAML value type {value.GetType().Name}.", nameof(value));
            }
        }

        /// <summary>PyYAML's <c>write_single_quoted</c> / <c>write_plain</c> (no line breaks inside): a single space past column 80 becomes a line break and indent.</summary>
        private void Folded(string text, int indent, bool quoted)
        {
            if (quoted)
            {
                Write("'");
            }

            var spaces = false;
            var start = 0;
            for (var end = 0; end <= text.Length; end++)
            {
                char? ch = end < text.Length ? text[end] : null;
                if (spaces)
                {
                    if (ch != ' ')
                    {
                        if (start + 1 == end && _column > BestWidth && (!quoted || (start != 0 && end != text.Length)))
                        {
                            NewLine();
                            Write(new string(' ', indent));
                        }
                        else
                        {
                            Write(text[start..end]);
                        }

                        start = end;
                    }
                }
                else if (ch is null || ch == ' ' || (quoted && ch == '\''))
                {
                    if (start < end)
                    {
                        Write(text[start..end]);
                        start = end;
                    }
                }

                if (quoted && ch == '\'')
                {
                    Write("''");
                    start = end + 1;
                }

                if (ch is not null)
                {
                    spaces = ch == ' ';
                }
            }

            if (quoted)
            {
                Write("'");
            }
        }

        private void Write(string s)
        {
            _sb.Append(s);
            _column += s.Length;
        }

        private void NewLine()
        {
            _sb.Append('\n');
            _column = 0;
        }
    }
}
