using System.Globalization;
using System.Text;
using System.Text.Json;
using Mlflow.Client.Evaluation;
using Mlflow.Client.Tests.Infrastructure;
using NUnit.Framework;

namespace Mlflow.Client.Tests.Evaluation;

/// <summary>
/// Issue 21 item 13: the readability grades agree with textstat 0.7.4 (the same code as 0.7.3 for these) and Pyphen
/// 0.15.0, value for value. Expected values are what those libraries computed (<c>tests/Fixtures/textstat/expected.json</c>,
/// written by <c>generate.py</c> there): 65 texts (several sentences, abbreviations, <c>?!</c>, numbers, emoji,
/// non-ASCII scripts, decomposed accents, empty, one word), the syllables of 3,409 words, and a small dictionary that
/// pins how Pyphen reads the format.
/// </summary>
public sealed class ReadabilityTests
{
    private static readonly Lazy<JsonElement> Expected = new(() =>
    {
        var path = Path.Combine(RepoPaths.RepoRoot, "tests", "Fixtures", "textstat", "expected.json");
        using var doc = JsonDocument.Parse(File.ReadAllText(path, Encoding.UTF8));
        return doc.RootElement.Clone();
    });

    public static IEnumerable<TestCaseData> Texts()
    {
        var texts = Expected.Value.GetProperty("texts");
        for (var i = 0; i < texts.GetArrayLength(); i++)
        {
            var text = texts[i].GetProperty("text").GetString()!;
            var preview = new string([.. text.Take(24).Select(c => char.IsControl(c) || char.IsSurrogate(c) ? '~' : c)]);
            yield return new TestCaseData(i).SetName(string.Create(CultureInfo.InvariantCulture, $"Text_{i:00}_agrees_with_textstat ({preview})"));
        }
    }

    [TestCaseSource(nameof(Texts))]
    public void Text_agrees_with_textstat(int index)
    {
        var expected = Expected.Value.GetProperty("texts")[index];
        var text = expected.GetProperty("text").GetString()!;
        Assert.Multiple(() =>
        {
            Assert.That(Readability.FleschKincaidGrade(text), Is.EqualTo(expected.GetProperty("flesch_kincaid_grade").GetDouble()), "flesch_kincaid_grade");
            Assert.That(Readability.AutomatedReadabilityIndex(text), Is.EqualTo(expected.GetProperty("automated_readability_index").GetDouble()), "automated_readability_index");
            Assert.That(Readability.SentenceCount(text), Is.EqualTo(expected.GetProperty("sentence_count").GetInt32()), "sentence_count");
            Assert.That(Readability.SyllableCount(text), Is.EqualTo(expected.GetProperty("syllable_count").GetInt32()), "syllable_count");
            Assert.That(Readability.LexiconCount(text), Is.EqualTo(expected.GetProperty("lexicon_count").GetInt32()), "lexicon_count");
            Assert.That(Readability.CharacterCount(text), Is.EqualTo(expected.GetProperty("char_count").GetInt32()), "char_count");
        });
    }

    [Test]
    public void Every_word_hyphenates_and_counts_syllables_as_pyphen_and_textstat()
    {
        var words = Expected.Value.GetProperty("words");
        Assert.That(words.GetArrayLength(), Is.GreaterThan(3000));
        var wrong = new List<string>();
        foreach (var entry in words.EnumerateArray())
        {
            var word = entry[0].GetString()!;
            var positions = entry[1].EnumerateArray().Select(p => p.GetInt32()).ToArray();
            var syllables = entry[2].GetInt32();
            var actual = Hyphenator.AmericanEnglish.Positions(word);
            var count = Readability.SyllableCount(word);
            if (!actual.SequenceEqual(positions) || count != syllables)
            {
                wrong.Add($"{word}: positions [{string.Join(',', actual)}] for [{string.Join(',', positions)}], syllables {count} for {syllables}");
            }
        }

        Assert.That(wrong, Is.Empty, string.Join('\n', wrong.Take(30)));
    }

    [Test]
    public void A_dictionary_is_read_as_pyphen_reads_it()
    {
        var synthetic = Expected.Value.GetProperty("synthetic");
        var dic = synthetic.GetProperty("dic").GetString()!;
        var cases = synthetic.GetProperty("words");
        Assert.That(cases.GetArrayLength(), Is.GreaterThan(40));
        var wrong = new List<string>();
        foreach (var entry in cases.EnumerateArray())
        {
            var word = entry[0].GetString()!;
            var (left, right) = (entry[1].GetInt32(), entry[2].GetInt32());
            var positions = entry[3].EnumerateArray().Select(p => p.GetInt32()).ToArray();
            var actual = Hyphenator.Load(Encoding.UTF8.GetBytes(dic), left, right).Positions(word);
            if (!actual.SequenceEqual(positions))
            {
                wrong.Add($"'{word}' (left {left}, right {right}): [{string.Join(',', actual)}] for [{string.Join(',', positions)}]");
            }
        }

        Assert.That(wrong, Is.Empty, string.Join('\n', wrong));
    }

    [Test]
    public void Worked_examples_show_the_rules()
    {
        const string simple = "The cat sat on the mat. It was a sunny day. We all went to the park.";
        // 17 words, 3 sentences; syllables: 16 one-syllable words + sun-ny = 18
        // FK: round1(17/3) = 5.7, round1(18/17) = 1.1 -> 0.39*5.7 + 11.8*1.1 - 15.59 = -0.387 -> floor(-3.87 - 0.5)/10 = -0.5
        Assert.That(Readability.SyllableCount(simple), Is.EqualTo(18));
        Assert.That(Readability.FleschKincaidGrade(simple), Is.EqualTo(-0.5));
        // ARI: 52 non-space characters; round2(52/17) = 3.06, round2(17/3) = 5.67 -> -4.1824 -> -4.3
        Assert.That(Readability.AutomatedReadabilityIndex(simple), Is.EqualTo(-4.3));

        // Syllables are hyphenation points + 1: com-pre-hen-sive 4, eval-u-a-tion 4, method-olo-gies 3,
        // fa-cil-i-tate 4, re-pro-ducible 3, ex-per-i-men-ta-tion 6 = 24 (vowel groups would say 28)
        const string hard = "Comprehensive evaluation methodologies facilitate reproducible experimentation.";
        Assert.That(Readability.SyllableCount(hard), Is.EqualTo(24));
        // FK: 6 words, 1 sentence; round1(24/6) = 4.0 -> 2.34 + 47.2 - 15.59 = 33.95 -> floor(339.5 + 0.5)/10 = 34.0
        Assert.That(Readability.FleschKincaidGrade(hard), Is.EqualTo(34.0));

        // The dictionary's RIGHTHYPHENMIN 3 is not read (Pyphen keeps two): ac-cept-ed
        Assert.That(Hyphenator.AmericanEnglish.Positions("accepted"), Is.EqualTo(new[] { 2, 6 }));
        Assert.That(Readability.SyllableCount("accepted"), Is.EqualTo(3));

        // Sentences split at every . ! ? run (not only before a capital); pieces of two words or fewer do not count:
        // "Dr." | "Smith arrived at 5 p." | "m." | "yesterday." | "He was late!" -> 2
        Assert.That(Readability.SentenceCount("Dr. Smith arrived at 5 p.m. yesterday. He was late!"), Is.EqualTo(2));
        Assert.That(Readability.SentenceCount("first one is here. second one is here. third one too"), Is.EqualTo(3));

        // An emoji is one character (one code point), as in Python; a decomposed accent is not a word character
        Assert.That(Readability.CharacterCount("a\U0001F600b"), Is.EqualTo(3));
        Assert.That(Readability.LexiconCount("\U0001F600 \u0301 word"), Is.EqualTo(1));
        Assert.That(Readability.LexiconCount("x\u00b2 \u00bd"), Is.EqualTo(2), "² and ½ have numeric values: word characters in Python");

        Assert.That(Readability.AutomatedReadabilityIndex(""), Is.Zero);
        Assert.That(Readability.FleschKincaidGrade(""), Is.EqualTo(-15.7)); // -15.59 -> floor(-155.9 - 0.5)/10
        Assert.That(Readability.SyllableCount("2024"), Is.EqualTo(1));
        Assert.That(Readability.SyllableCount("!!!"), Is.Zero);
    }

    [Test]
    public void The_dictionary_is_embedded_whole()
    {
        using var stream = typeof(Readability).Assembly.GetManifestResourceStream(Hyphenator.AmericanEnglishResource);
        Assert.That(stream, Is.Not.Null);
        using var sha = System.Security.Cryptography.SHA256.Create();
        var hash = Convert.ToHexString(sha.ComputeHash(stream!)).ToLowerInvariant();
        // Pyphen 0.15.0's pyphen/dictionaries/hyph_en_US.dic, as THIRD-PARTY-NOTICES.md records it
        Assert.That(hash, Is.EqualTo("486fb6840b1049d5d252ef784be11cd4dc2be0bf296568b74b41e4f4e17cba7d"));
        Assert.That(() => Hyphenator.Load(Encoding.ASCII.GetBytes("ISO8859-1\na1b\n")), Throws.TypeOf<NotSupportedException>());
    }
}
