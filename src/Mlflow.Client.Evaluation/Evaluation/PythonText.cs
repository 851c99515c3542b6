using System.Text;

namespace Mlflow.Client.Evaluation;

/// <summary>
/// Python's <c>str.lower()</c> and <c>str.split()</c>, which the reference implementations of the text metrics call
/// (rouge_score, the SQuAD normalization, sacrebleu's 13a tokenizer, textstat), where .NET's nearest methods differ:
/// Python lowercases with the full Unicode mapping (<c>İ</c> becomes <c>i</c> + U+0307, and a final capital sigma
/// <c>ς</c>), and its whitespace includes the separators U+001C–U+001F.
/// </summary>
internal static class PythonText
{
    private const char CapitalDottedI = '\u0130';
    private const char CapitalSigma = '\u03A3';

    /// <summary>Python's <c>str.lower()</c>.</summary>
    public static string Lower(string text)
    {
        var lower = text.ToLowerInvariant();
        if (text.AsSpan().IndexOfAny(CapitalDottedI, CapitalSigma) < 0)
        {
            return lower; // the common case: the simple mapping is the full one
        }

        var sb = new StringBuilder(text.Length + 4);
        for (var i = 0; i < text.Length; i++)
        {
            switch (text[i])
            {
                case CapitalDottedI:
                    sb.Append("i\u0307");
                    break;
                case CapitalSigma:
                    sb.Append(IsFinalSigma(text, i) ? 'ς' : 'σ');
                    break;
                default:
                    sb.Append(lower[i]);
                    break;
            }
        }

        return sb.ToString();
    }

    /// <summary>Python's <c>str.split()</c> with no separator: runs of whitespace separate, none is empty.</summary>
    public static string[] Split(string text)
    {
        var parts = new List<string>();
        var start = -1;
        for (var i = 0; i <= text.Length; i++)
        {
            if (i == text.Length || IsWhiteSpace(text[i]))
            {
                if (start >= 0)
                {
                    parts.Add(text[start..i]);
                    start = -1;
                }
            }
            else if (start < 0)
            {
                start = i;
            }
        }

        return [.. parts];
    }

    /// <summary>Python's <c>str.isspace()</c> for one character: .NET's white space and the separators U+001C–U+001F.</summary>
    public static bool IsWhiteSpace(char c) => char.IsWhiteSpace(c) || c is >= '\u001C' and <= '\u001F';

    /// <summary>Python's <c>str.isspace()</c> (and <c>\s</c> of its <c>re</c>) for one code point.</summary>
    public static bool IsWhiteSpace(Rune r) => r.IsBmp && IsWhiteSpace((char)r.Value);

    /// <summary>
    /// <c>\w</c> of Python's <c>re</c> on a <c>str</c>: a letter (<c>isalpha</c>: Lu, Ll, Lt, Lm, Lo), a character with a
    /// numeric value (<c>isdecimal</c>, <c>isdigit</c>, <c>isnumeric</c>: <c>²</c>, <c>½</c>, <c>Ⅻ</c> too) or <c>_</c>.
    /// .NET's <c>\w</c> differs: it also takes combining marks (Mn) and connector punctuation, and no No/Nl numbers.
    /// </summary>
    public static bool IsWordCharacter(Rune r) => r.Value == '_' || Rune.IsLetter(r) || Rune.GetNumericValue(r) != -1;

    /// <summary>Python's <c>re.sub(r"[^\w\s]", "", text)</c>: every code point that is neither a word character nor white space removed.</summary>
    public static string RemovePunctuation(string text)
    {
        StringBuilder? sb = null;
        var index = 0;
        foreach (var r in text.EnumerateRunes())
        {
            var keep = IsWordCharacter(r) || IsWhiteSpace(r);
            if (!keep && sb is null)
            {
                sb = new StringBuilder(text.Length).Append(text, 0, index);
            }
            else if (keep && sb is not null)
            {
                sb.Append(text, index, r.Utf16SequenceLength);
            }

            index += r.Utf16SequenceLength;
        }

        return sb?.ToString() ?? text;
    }

    /// <summary>Python's <c>len(text)</c>: code points, an emoji or another character outside the BMP counting once.</summary>
    public static int Length(string text)
    {
        var n = 0;
        foreach (var _ in text.EnumerateRunes())
        {
            n++;
        }

        return n;
    }

    /// <summary>Unicode's Final_Sigma condition as Python applies it: a cased letter before (case-ignorable ones skipped), none after.</summary>
    private static bool IsFinalSigma(string text, int index)
    {
        var j = index - 1;
        while (j >= 0 && IsCaseIgnorable(text[j]))
        {
            j--;
        }

        if (j < 0 || !IsCased(text[j]))
        {
            return false;
        }

        var k = index + 1;
        while (k < text.Length && IsCaseIgnorable(text[k]))
        {
            k++;
        }

        return k == text.Length || !IsCased(text[k]);
    }

    private static bool IsCased(char c) => char.IsUpper(c) || char.IsLower(c) || char.GetUnicodeCategory(c) == System.Globalization.UnicodeCategory.TitlecaseLetter;

    private static bool IsCaseIgnorable(char c) => char.GetUnicodeCategory(c) is System.Globalization.UnicodeCategory.NonSpacingMark
        or System.Globalization.UnicodeCategory.EnclosingMark or System.Globalization.UnicodeCategory.Format
        or System.Globalization.UnicodeCategory.ModifierLetter or System.Globalization.UnicodeCategory.ModifierSymbol
        || c is '\'' or '.' or ':' or '^' or '`' or '\u00AD' or '\u2019';
}
