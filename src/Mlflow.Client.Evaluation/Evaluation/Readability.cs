using System.Text.RegularExpressions;

namespace Mlflow.Client.Evaluation;

/// <summary>
/// The readability grades MLflow's text evaluator reports (<c>flesch_kincaid_grade_level/v1</c>,
/// <c>ari_grade_level/v1</c>), computed as textstat 0.7 computes them: words are the whitespace-separated pieces after
/// removing every character that is neither a word character nor whitespace; sentences are split at <c>. ? !</c> (and
/// closing quotes or brackets) followed by a space or newline and an upper-case letter, pieces of two words or fewer are
/// not counted, and there is at least one; averages and results are rounded half away from zero as textstat does.
/// </summary>
/// <remarks>
/// Syllables: textstat counts hyphenation points of the Pyphen (Hunspell) <c>en_US</c> dictionary, which this package does
/// not ship. <see cref="SyllableCount"/> counts groups of vowels (a, e, i, o, u, y) in each word instead, less a silent
/// final <c>e</c> (not after <c>l</c> as in "table", nor in "ee"/"ye"), at least one per word. Words where the two
/// methods disagree can move the Flesch–Kincaid grade by a few tenths; ARI does not use syllables and agrees exactly.
/// </remarks>
public static partial class Readability
{
    /// <summary>The Flesch–Kincaid grade: 0.39 × words per sentence + 11.8 × syllables per word − 15.59 (both averages rounded to one decimal), rounded to one decimal.</summary>
    /// <param name="text">The text.</param>
    /// <returns>The grade (−15.7 for a text without words, as textstat).</returns>
    public static double FleschKincaidGrade(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var words = Words(text);
        var sentenceLength = words.Count == 0 ? 0 : Round((double)words.Count / SentenceCount(text), 1);
        var syllablesPerWord = words.Count == 0 ? 0 : Round((double)words.Sum(w => SyllableCount(w)) / words.Count, 1);
        return Round((0.39 * sentenceLength) + (11.8 * syllablesPerWord) - 15.59, 1);
    }

    /// <summary>The automated readability index: 4.71 × characters per word + 0.5 × words per sentence − 21.43 (both ratios rounded to two decimals; characters are all non-whitespace characters), rounded to one decimal.</summary>
    /// <param name="text">The text.</param>
    /// <returns>The index (0 for a text without words, as textstat).</returns>
    public static double AutomatedReadabilityIndex(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var words = Words(text).Count;
        if (words == 0)
        {
            return 0;
        }

        var characters = text.Count(c => !char.IsWhiteSpace(c));
        var perWord = Round((double)characters / words, 2);
        var perSentence = Round((double)words / SentenceCount(text), 2);
        return Round((4.71 * perWord) + (0.5 * perSentence) - 21.43, 1);
    }

    /// <summary>Sentences as textstat counts them (see the class remarks).</summary>
    /// <param name="text">The text.</param>
    /// <returns>At least 1.</returns>
    public static int SentenceCount(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var pieces = SentenceBoundary().Split(text);
        var ignored = pieces.Count(p => Words(p).Count <= 2);
        return Math.Max(1, pieces.Length - ignored);
    }

    /// <summary>The syllables of one word by vowel groups (see the class remarks).</summary>
    /// <param name="word">The word.</param>
    /// <returns>At least 1 for a word with a letter; 0 for an empty word.</returns>
    public static int SyllableCount(string word)
    {
        ArgumentNullException.ThrowIfNull(word);
        var w = PythonText.Lower(word);
        if (w.Length == 0)
        {
            return 0;
        }

        var count = 0;
        var previousVowel = false;
        foreach (var c in w)
        {
            var vowel = c is 'a' or 'e' or 'i' or 'o' or 'u' or 'y';
            if (vowel && !previousVowel)
            {
                count++;
            }

            previousVowel = vowel;
        }

        if (count > 1 && w.EndsWith('e') && !w.EndsWith("le", StringComparison.Ordinal) && !w.EndsWith("ee", StringComparison.Ordinal) && !w.EndsWith("ye", StringComparison.Ordinal))
        {
            count--;
        }

        return Math.Max(count, 1);
    }

    /// <summary>textstat's <c>_legacy_round</c>: floor(x × 10^points + copysign(0.5, x)) / 10^points.</summary>
    internal static double Round(double value, int points)
    {
        var p = Math.Pow(10, points);
        return Math.Floor((value * p) + Math.CopySign(0.5, value)) / p;
    }

    private static List<string> Words(string text)
        => [.. PythonText.Split(NotWordNorSpace().Replace(text, ""))];

    [GeneratedRegex(@"[^\w\s]", RegexOptions.CultureInvariant)]
    private static partial Regex NotWordNorSpace();

    [GeneratedRegex(@" *[\.\?!]['""\)\]]*[ |\n](?=[A-Z])", RegexOptions.CultureInvariant)]
    private static partial Regex SentenceBoundary();
}
