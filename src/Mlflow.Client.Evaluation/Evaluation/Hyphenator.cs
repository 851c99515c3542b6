using System.Text;

namespace Mlflow.Client.Evaluation;

/// <summary>
/// Frank Liang's hyphenation patterns in the Hunspell/LibreOffice <c>hyph_*.dic</c> format, applied as Pyphen
/// (0.14–0.18) applies them, which is how textstat 0.7.3/0.7.4 count syllables: <c>len(positions(word)) + 1</c>.
/// </summary>
/// <remarks>
/// <para>Reading a dictionary as Pyphen does: the first line names the encoding; the other lines are trimmed, and empty
/// ones, comments (<c>%</c>, <c>#</c>) and the <c>LEFTHYPHENMIN</c>, <c>RIGHTHYPHENMIN</c>,
/// <c>COMPOUNDLEFTHYPHENMIN</c>, <c>COMPOUNDRIGHTHYPHENMIN</c> lines are skipped, so the dictionary's own minimums are
/// not used (Pyphen's defaults, two characters on each side, are). <c>^^hh</c> stands for the character hh. A
/// non-standard (replacement) pattern <c>pattern/change,index,cut</c> counts by its part before the <c>/</c>: the
/// replacement only matters for breaking a word, not for where it breaks. Each pattern is split into (digit?,
/// letter?) pairs; a pattern whose digits are all 0 is dropped; leading and trailing zeros are cut and the offset of
/// the first kept one recorded; a later pattern with the same letters replaces an earlier one. Nothing else of the
/// format is read (<c>NOHYPHEN</c> and the compound levels are not Pyphen's).</para>
/// <para>Hyphenating: the word is lower-cased (Python's <c>str.lower</c>) and framed by dots; every pattern found
/// starting at every position but the last raises the values under it to its own; a position with an odd value is a
/// break; breaks closer than two code points to either end of the word are dropped. Lengths and positions count code
/// points, as Python's strings do.</para>
/// </remarks>
internal sealed class Hyphenator
{
    /// <summary>The manifest name of Pyphen's <c>hyph_en_US.dic</c>, embedded in this assembly.</summary>
    internal const string AmericanEnglishResource = "Mlflow.Client.Evaluation.hyph_en_US.dic";

    private static readonly string[] Ignored = ["%", "#", "LEFTHYPHENMIN", "RIGHTHYPHENMIN", "COMPOUNDLEFTHYPHENMIN", "COMPOUNDRIGHTHYPHENMIN"];

    private static readonly Lazy<Hyphenator> AmericanEnglishInstance = new(LoadAmericanEnglish, LazyThreadSafetyMode.ExecutionAndPublication);

    private readonly Node root;

    private Hyphenator(Node root, int left, int right)
    {
        this.root = root;
        Left = left;
        Right = right;
    }

    /// <summary>Pyphen's <c>Pyphen(lang="en_US")</c>, textstat's default: the embedded <c>hyph_en_US.dic</c>, two code points kept on each side.</summary>
    public static Hyphenator AmericanEnglish => AmericanEnglishInstance.Value;

    /// <summary>The fewest code points before the first break (Pyphen's <c>left</c>).</summary>
    public int Left { get; }

    /// <summary>The fewest code points after the last break (Pyphen's <c>right</c>).</summary>
    public int Right { get; }

    /// <summary>Reads a dictionary's bytes, whose first line names their encoding: UTF-8 (the only one this package ships).</summary>
    /// <exception cref="NotSupportedException">Another encoding.</exception>
    public static Hyphenator Load(byte[] dic, int left = 2, int right = 2)
    {
        ArgumentNullException.ThrowIfNull(dic);
        var firstLine = Array.IndexOf(dic, (byte)'\n');
        var name = Encoding.ASCII.GetString(dic, 0, firstLine < 0 ? dic.Length : firstLine).Trim();
        if (!name.Equals("UTF-8", StringComparison.OrdinalIgnoreCase))
        {
            throw new NotSupportedException($"Hyphenation dictionary encoding '{name}' is not supported (UTF-8 only).");
        }

        return Parse(new UTF8Encoding(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true).GetString(dic), left, right);
    }

    /// <summary>Reads a dictionary's text (its first line, the encoding's name, is skipped).</summary>
    public static Hyphenator Parse(string dic, int left = 2, int right = 2)
    {
        ArgumentNullException.ThrowIfNull(dic);
        var root = new Node();
        var lines = dic.Replace("\r\n", "\n", StringComparison.Ordinal).Replace('\r', '\n').Split('\n');
        for (var n = 1; n < lines.Length; n++)
        {
            var line = Strip(lines[n]);
            if (line.Length == 0 || Array.Exists(Ignored, p => line.StartsWith(p, StringComparison.Ordinal)))
            {
                continue;
            }

            AddPattern(root, line);
        }

        root.Freeze();
        return new Hyphenator(root, left, right);
    }

    /// <summary>Pyphen's <c>positions(word)</c>: the code-point offsets where the word may break, ascending.</summary>
    public int[] Positions(string word)
    {
        ArgumentNullException.ThrowIfNull(word);
        var framed = new List<int> { '.' };
        foreach (var r in PythonText.Lower(word).EnumerateRunes())
        {
            framed.Add(r.Value);
        }

        framed.Add('.');
        var values = new int[framed.Count + 1];
        for (var i = 0; i < framed.Count - 1; i++)
        {
            var node = root;
            for (var j = i; j < framed.Count; j++)
            {
                node = node.Child(framed[j]);
                if (node is null)
                {
                    break;
                }

                if (node.Values is { } found)
                {
                    for (var k = 0; k < found.Length && i + node.Offset + k < values.Length; k++)
                    {
                        ref var v = ref values[i + node.Offset + k];
                        v = Math.Max(found[k], v);
                    }
                }
            }
        }

        var last = PythonText.Length(word) - Right;
        var positions = new List<int>();
        for (var i = 0; i < values.Length; i++)
        {
            if (values[i] % 2 == 1 && i - 1 >= Left && i - 1 <= last)
            {
                positions.Add(i - 1);
            }
        }

        return [.. positions];
    }

    private static Hyphenator LoadAmericanEnglish()
    {
        using var stream = typeof(Hyphenator).Assembly.GetManifestResourceStream(AmericanEnglishResource)
            ?? throw new InvalidOperationException($"The embedded resource {AmericanEnglishResource} is missing from {typeof(Hyphenator).Assembly.GetName().Name}.");
        using var copy = new MemoryStream();
        stream.CopyTo(copy);
        return Load(copy.ToArray());
    }

    /// <summary>One pattern line, as Pyphen's <c>HyphDict</c> reads it.</summary>
    private static void AddPattern(Node root, string line)
    {
        var pattern = ReplaceHexEscapes(line);
        if (pattern.Contains('/', StringComparison.Ordinal) && pattern.Contains('=', StringComparison.Ordinal))
        {
            pattern = pattern[..pattern.IndexOf('/', StringComparison.Ordinal)];
        }

        // Python's re.findall(r'(\d?)(\D?)', pattern): pairs (digit or 0, non-digit or none), then the empty match at the end
        var letters = new List<int>();
        var values = new List<int>();
        var runes = pattern.EnumerateRunes().ToArray();
        for (var i = 0; i < runes.Length;)
        {
            var value = 0;
            if (Rune.IsDigit(runes[i]))
            {
                value = (int)Rune.GetNumericValue(runes[i]);
                i++;
            }

            if (i < runes.Length && !Rune.IsDigit(runes[i]))
            {
                letters.Add(runes[i].Value);
                i++;
            }

            values.Add(value);
        }

        values.Add(0);
        var start = values.FindIndex(v => v != 0);
        if (start < 0)
        {
            return; // only zeros: no break and no veto
        }

        var end = values.FindLastIndex(v => v != 0) + 1;
        var node = root;
        foreach (var letter in letters)
        {
            node = node.GetOrAdd(letter);
        }

        node.Offset = start;
        node.Values = [.. values.GetRange(start, end - start)];
    }

    /// <summary>Pyphen's <c>^^hh</c> (two lower-case hex digits) for the character hh.</summary>
    private static string ReplaceHexEscapes(string pattern)
    {
        if (!pattern.Contains("^^", StringComparison.Ordinal))
        {
            return pattern;
        }

        var sb = new StringBuilder(pattern.Length);
        for (var i = 0; i < pattern.Length; i++)
        {
            if (pattern[i] == '^' && i + 3 < pattern.Length && pattern[i + 1] == '^' && IsLowerHex(pattern[i + 2]) && IsLowerHex(pattern[i + 3]))
            {
                sb.Append((char)Convert.ToInt32(pattern.Substring(i + 2, 2), 16));
                i += 3;
            }
            else
            {
                sb.Append(pattern[i]);
            }
        }

        return sb.ToString();
    }

    private static bool IsLowerHex(char c) => c is (>= '0' and <= '9') or (>= 'a' and <= 'f');

    /// <summary>Python's <c>str.strip()</c>.</summary>
    private static string Strip(string line)
    {
        var s = 0;
        var e = line.Length;
        while (s < e && PythonText.IsWhiteSpace(line[s]))
        {
            s++;
        }

        while (e > s && PythonText.IsWhiteSpace(line[e - 1]))
        {
            e--;
        }

        return line[s..e];
    }

    /// <summary>A trie over the patterns' code points; a node where a pattern ends holds its values and their offset.</summary>
    private sealed class Node
    {
        private Dictionary<int, Node>? building = [];
        private int[] keys = [];
        private Node[] children = [];

        public int Offset { get; set; }

        public int[]? Values { get; set; }

        public Node GetOrAdd(int codePoint)
        {
            var map = building ?? throw new InvalidOperationException("The patterns are already read.");
            if (!map.TryGetValue(codePoint, out var child))
            {
                child = new Node();
                map[codePoint] = child;
            }

            return child;
        }

        public Node? Child(int codePoint)
        {
            var i = Array.BinarySearch(keys, codePoint);
            return i >= 0 ? children[i] : null;
        }

        /// <summary>Turns the building maps into sorted arrays (smaller, searched by bisection), depth first.</summary>
        public void Freeze()
        {
            var stack = new Stack<Node>();
            stack.Push(this);
            while (stack.Count > 0)
            {
                var node = stack.Pop();
                var map = node.building!;
                node.keys = [.. map.Keys.Order()];
                node.children = [.. node.keys.Select(k => map[k])];
                node.building = null;
                foreach (var child in node.children)
                {
                    stack.Push(child);
                }
            }
        }
    }
}
