using System.Text;

namespace Mlflow.Client.Evaluation;

/// <summary>
/// The readability grades MLflow's text evaluator reports (<c>flesch_kincaid_grade_level/v1</c>,
/// <c>ari_grade_level/v1</c>: <c>textstat.flesch_kincaid_grade</c> and <c>textstat.automated_readability_index</c> of
/// each prediction), computed as <b>textstat 0.7.4</b> computes them (January 2024, what <c>pip install textstat</c>
/// gave MLflow 2.12, which does not pin it; 0.7.3 runs the same code for these), syllables included: they are counted
/// with Pyphen's <c>en_US</c> hyphenation dictionary (<c>hyph_en_US.dic</c> of Pyphen 0.15.0, embedded in this
/// package), as textstat does. Checked value for value against textstat 0.7.4 with Pyphen 0.15.0 on 65 texts and
/// 3,409 words (<c>tests/Fixtures/textstat</c>).
/// </summary>
/// <remarks>
/// <para>Text is taken as Python takes it: a sequence of code points (an emoji is one character, not two), with
/// Python's <c>re</c> classes: a word character is a letter, a character with a numeric value (<c>²</c>, <c>½</c>) or
/// <c>_</c>; combining marks are not (a decomposed <c>é</c> loses its accent). Words are the whitespace-separated
/// pieces left after removing every character that is neither a word character nor whitespace (<c>don't</c> and
/// <c>state-of-the-art</c> are one word each). Sentences are textstat's <c>re.findall(r'\b[^.!?]+[.!?]*')</c>: each
/// starts at a word boundary and runs through the next run of <c>. ! ?</c>, whatever follows (so <c>e.g.</c> and
/// <c>3.5</c> split too); pieces of two words or fewer are not counted, and there is at least one. Syllables: the text is
/// lower-cased (Python's <c>str.lower</c>), punctuation removed, and each word counts one more than its hyphenation points
/// (Pyphen's <c>positions</c>, at least two code points from either end; see the embedded dictionary's notice in
/// THIRD-PARTY-NOTICES.md). Averages and results are rounded half away from zero as textstat's <c>_legacy_round</c>.</para>
/// <para>Newer textstat releases differ: 0.7.5 (February 2025) and later look words up in the CMU pronouncing dictionary
/// first and count syllables of the words it has from it. Python's Unicode tables (3.11: Unicode 14) and .NET's can
/// disagree on characters assigned since.</para>
/// </remarks>
public static class Readability
{
    /// <summary>The Flesch–Kincaid grade: 0.39 × words per sentence + 11.8 × syllables per word − 15.59 (both averages rounded to one decimal), rounded to one decimal.</summary>
    /// <param name="text">The text.</param>
    /// <returns>The grade (−15.7 for a text without words, as textstat).</returns>
    public static double FleschKincaidGrade(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var runes = Runes(text);
        var words = LexiconCount(runes, 0, runes.Length);
        var sentenceLength = Round((double)words / SentenceCount(runes), 1);
        var syllablesPerWord = words == 0 ? 0 : Round((double)SyllableCount(text) / words, 1);
        return Round((0.39 * sentenceLength) + (11.8 * syllablesPerWord) - 15.59, 1);
    }

    /// <summary>The automated readability index: 4.71 × characters per word + 0.5 × words per sentence − 21.43 (both ratios rounded to two decimals; characters are the code points that are not whitespace, punctuation included), rounded to one decimal.</summary>
    /// <param name="text">The text.</param>
    /// <returns>The index (0 for a text without words, as textstat).</returns>
    public static double AutomatedReadabilityIndex(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var runes = Runes(text);
        var words = LexiconCount(runes, 0, runes.Length);
        if (words == 0)
        {
            return 0;
        }

        var perWord = Round((double)CharacterCount(runes) / words, 2);
        var perSentence = Round((double)words / SentenceCount(runes), 2);
        return Round((4.71 * perWord) + (0.5 * perSentence) - 21.43, 1);
    }

    /// <summary>Sentences as textstat counts them (see the class remarks).</summary>
    /// <param name="text">The text.</param>
    /// <returns>At least 1.</returns>
    public static int SentenceCount(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        return SentenceCount(Runes(text));
    }

    /// <summary>textstat's <c>syllable_count</c>: for each word of the lower-cased text, one more than its hyphenation points in Pyphen's <c>en_US</c> dictionary (see the class remarks).</summary>
    /// <param name="text">A word or a text.</param>
    /// <returns>The syllables of all its words; 0 for a text without words (a number counts 1).</returns>
    public static int SyllableCount(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var count = 0;
        foreach (var word in PythonText.Split(PythonText.RemovePunctuation(PythonText.Lower(text))))
        {
            count += Hyphenator.AmericanEnglish.Positions(word).Length + 1;
        }

        return count;
    }

    /// <summary>textstat's <c>lexicon_count</c>: the words (see the class remarks).</summary>
    internal static int LexiconCount(string text)
    {
        var runes = Runes(text);
        return LexiconCount(runes, 0, runes.Length);
    }

    /// <summary>textstat's <c>char_count</c>: the code points that are not whitespace.</summary>
    internal static int CharacterCount(string text) => CharacterCount(Runes(text));

    /// <summary>textstat's <c>_legacy_round</c>: floor(x × 10^points + copysign(0.5, x)) / 10^points.</summary>
    internal static double Round(double value, int points)
    {
        var p = Math.Pow(10, points);
        return Math.Floor((value * p) + Math.CopySign(0.5, value)) / p;
    }

    private static Rune[] Runes(string text) => [.. text.EnumerateRunes()];

    private static int CharacterCount(Rune[] runes) => runes.Count(r => !PythonText.IsWhiteSpace(r));

    /// <summary>
    /// textstat's <c>re.findall(r'\b[^.!?]+[.!?]*', text)</c>, less the pieces of two words or fewer. Each piece is a
    /// stretch between runs of <c>. ! ?</c> (with the run that ends it); the <c>\b</c> only moves a piece's start past
    /// leading characters that are not word characters, or drops a stretch that has none, which changes no word count, so
    /// the stretches are counted directly.
    /// </summary>
    private static int SentenceCount(Rune[] runes)
    {
        var counted = 0;
        var start = 0;
        for (var i = 0; i <= runes.Length; i++)
        {
            if (i < runes.Length && !IsTerminator(runes[i]))
            {
                continue;
            }

            if (LexiconCount(runes, start, i) > 2)
            {
                counted++;
            }

            start = i + 1;
        }

        return Math.Max(1, counted);
    }

    /// <summary><c>len(re.sub(r"[^\w\s]", "", text).split())</c>: whitespace-separated pieces with at least one word character.</summary>
    private static int LexiconCount(Rune[] runes, int start, int end)
    {
        var words = 0;
        var pieceHasWord = false;
        for (var i = start; i <= end; i++)
        {
            if (i == end || PythonText.IsWhiteSpace(runes[i]))
            {
                words += pieceHasWord ? 1 : 0;
                pieceHasWord = false;
            }
            else
            {
                pieceHasWord |= PythonText.IsWordCharacter(runes[i]);
            }
        }

        return words;
    }

    private static bool IsTerminator(Rune r) => r.Value is '.' or '!' or '?';
}
