namespace Mlflow.Client.FileStore;

// Reading nested documents: what WriteDocument writes and what PyYAML's safe_dump(default_flow_style=False) writes for
// MLflow 3's trace_info.yaml and assessment files (block mappings and sequences to any depth, indentless sequences under
// a key, "- key: value" items, multi-line scalars).
internal static partial class MiniYaml
{
    /// <summary>Deepest nesting <see cref="ReadDocument"/> follows (MLflow's files nest a handful of levels).</summary>
    private const int MaxDepth = 64;

    /// <summary>
    /// Reads a top-level block mapping with nested block mappings and sequences. Values: <see cref="string"/>,
    /// <see cref="long"/>, <see cref="double"/>, <see cref="bool"/>, <see langword="null"/>,
    /// <see cref="Dictionary{TKey,TValue}"/> of string to value (also for <c>{}</c>) and <see cref="List{T}"/> of values
    /// (also for <c>[]</c>).
    /// </summary>
    /// <exception cref="FormatException">The text is not in the supported subset.</exception>
    public static Dictionary<string, object?> ReadDocument(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var reader = new DocReader(text.Replace("\r\n", "\n", StringComparison.Ordinal).Split('\n'));
        if (!reader.SkipBlank())
        {
            return new Dictionary<string, object?>(StringComparer.Ordinal);
        }

        if (reader.Indent != 0)
        {
            throw new FormatException($"Unexpected indentation at line {reader.LineNumber}.");
        }

        var document = reader.Mapping(0, 0);
        if (reader.SkipBlank())
        {
            throw new FormatException($"Unexpected content at line {reader.LineNumber}.");
        }

        return document;
    }

    private sealed class DocReader(string[] lines)
    {
        private int _i;

        public int LineNumber => _i + 1;

        /// <summary>The indentation of the current line.</summary>
        public int Indent => lines[_i].Length - lines[_i].TrimStart(' ').Length;

        private string Content => lines[_i][Indent..];

        /// <summary>Moves to the next line with content; false at the end.</summary>
        public bool SkipBlank()
        {
            while (_i < lines.Length)
            {
                var trimmed = lines[_i].Trim(' ');
                if (trimmed.Length > 0 && trimmed[0] != '#' && lines[_i] != "---")
                {
                    if (lines[_i].TrimStart(' ').StartsWith('\t'))
                    {
                        throw new FormatException($"Tab indentation at line {_i + 1}.");
                    }

                    return true;
                }

                _i++;
            }

            return false;
        }

        public Dictionary<string, object?> Mapping(int indent, int depth)
        {
            CheckDepth(depth);
            var result = new Dictionary<string, object?>(StringComparer.Ordinal);
            while (SkipBlank())
            {
                var current = Indent;
                if (current < indent || (current == indent && IsSequenceItem(Content)))
                {
                    break;
                }

                if (current > indent)
                {
                    throw new FormatException($"Unexpected indentation at line {_i + 1}.");
                }

                var (key, rest) = SplitKey(Content, _i);
                _i++;
                if (!result.TryAdd(key, ValueAfter(indent, rest, depth, mappingValue: true)))
                {
                    throw new FormatException($"Duplicate key '{key}' before line {_i + 1}.");
                }
            }

            return result;
        }

        private List<object?> Sequence(int indent, int depth)
        {
            CheckDepth(depth);
            var result = new List<object?>();
            while (SkipBlank() && Indent == indent && IsSequenceItem(Content))
            {
                var item = Content.Length == 1 ? "" : Content[2..].TrimStart(' ');
                var itemIndent = indent + (Content.Length - Content.TrimStart('-').TrimStart(' ').Length);
                if (item.Length > 0 && (IsSequenceItem(item) || IsMappingEntry(item)))
                {
                    // "- key: value" or "- - x": the item is a node that starts on this line, one level in.
                    lines[_i] = new string(' ', itemIndent) + item;
                    result.Add(IsSequenceItem(item) ? Sequence(itemIndent, depth + 1) : Mapping(itemIndent, depth + 1));
                    continue;
                }

                _i++;
                result.Add(ValueAfter(indent, item, depth, mappingValue: false));
            }

            return result;
        }

        /// <summary>The value after <c>key:</c> or <c>-</c> at <paramref name="ownerIndent"/>: a scalar on the line, or a block below it.</summary>
        private object? ValueAfter(int ownerIndent, string rest, int depth, bool mappingValue)
        {
            if (rest.Length > 0)
            {
                return Scalar(ownerIndent, rest);
            }

            if (!SkipBlank())
            {
                return null;
            }

            if (Indent > ownerIndent)
            {
                return IsSequenceItem(Content) ? Sequence(Indent, depth + 1) : Mapping(Indent, depth + 1);
            }

            // PyYAML writes a sequence under a mapping key at the key's own indentation.
            return mappingValue && Indent == ownerIndent && IsSequenceItem(Content) ? Sequence(Indent, depth + 1) : null;
        }

        /// <summary>A scalar starting on the line just read, with its continuation lines (more indented, or up to a closing quote).</summary>
        private object? Scalar(int ownerIndent, string rest)
        {
            var continuation = new List<string>();
            if (rest[0] is '\'' or '"' && FindClosingQuote(rest, 0) < 0)
            {
                var joined = rest;
                while (_i < lines.Length && FindClosingQuote(joined, 0) < 0)
                {
                    continuation.Add(lines[_i]);
                    joined += "\n" + lines[_i];
                    _i++;
                }
            }
            else if (rest[0] is not ('\'' or '"'))
            {
                while (_i < lines.Length && lines[_i].Trim(' ').Length > 0
                       && lines[_i].Length - lines[_i].TrimStart(' ').Length > ownerIndent)
                {
                    if (IsMappingEntry(lines[_i].Trim(' ')))
                    {
                        throw new FormatException($"A mapping entry where a scalar continues at line {_i + 1}.");
                    }

                    continuation.Add(lines[_i]);
                    _i++;
                }
            }

            if (rest is "{}")
            {
                return new Dictionary<string, object?>(StringComparer.Ordinal);
            }

            if (rest is "[]")
            {
                return new List<object?>();
            }

            return ParseValue(rest, continuation, _i);
        }

        private void CheckDepth(int depth)
        {
            if (depth > MaxDepth)
            {
                throw new FormatException($"Nesting deeper than {MaxDepth} levels at line {_i + 1}.");
            }
        }
    }

    private static bool IsSequenceItem(string content) => content == "-" || content.StartsWith("- ", StringComparison.Ordinal);

    /// <summary>Whether text that follows <c>- </c> starts a mapping (<c>key: value</c>, <c>key:</c>, <c>'quoted key': value</c>).</summary>
    private static bool IsMappingEntry(string text)
    {
        if (text[0] is '\'' or '"')
        {
            var end = FindClosingQuote(text, 0);
            return end > 0 && end + 1 < text.Length && text[end + 1] == ':' && (end + 2 == text.Length || text[end + 2] == ' ');
        }

        return text.Contains(": ", StringComparison.Ordinal) || text.EndsWith(':');
    }
}
