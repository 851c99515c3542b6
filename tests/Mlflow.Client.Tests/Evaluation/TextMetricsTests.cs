using Mlflow.Client.Evaluation;
using NUnit.Framework;

namespace Mlflow.Client.Tests.Evaluation;

/// <summary>Text metrics on cases computed by hand (each computation in the comment above the assertion).</summary>
public sealed class TextMetricsTests
{
    private const double Tol = 1e-9;

    [Test]
    public void Rouge_scores_are_f_measures_over_lower_cased_alphanumeric_tokens()
    {
        // tokens: the cat sat on the mat / the cat is on the mat (6 each, '.' dropped)
        // unigram overlap: the x2, cat, on, mat = 5 -> P = R = F = 5/6
        Assert.That(TextMetrics.RougeN("The cat sat on the mat.", "the cat is on the mat", 1), Is.EqualTo(5.0 / 6).Within(Tol));
        // bigrams: {the cat, cat sat, sat on, on the, the mat} vs {the cat, cat is, is on, on the, the mat}: 3 of 5 -> F = 0.6
        Assert.That(TextMetrics.RougeN("The cat sat on the mat.", "the cat is on the mat", 2), Is.EqualTo(0.6).Within(Tol));
        // LCS: the cat on the mat = 5 -> 5/6
        Assert.That(TextMetrics.RougeL("The cat sat on the mat.", "the cat is on the mat"), Is.EqualTo(5.0 / 6).Within(Tol));
        // "a b c d" vs "a c": unigram overlap 2, P = 2/4, R = 2/2 -> F = 2*0.5*1/1.5 = 2/3; LCS "a c" = 2 -> 2/3; no bigram shared -> 0
        Assert.That(TextMetrics.RougeN("a b c d", "a c", 1), Is.EqualTo(2.0 / 3).Within(Tol));
        Assert.That(TextMetrics.RougeL("a b c d", "a c"), Is.EqualTo(2.0 / 3).Within(Tol));
        Assert.That(TextMetrics.RougeN("a b c d", "a c", 2), Is.Zero);
        Assert.That(TextMetrics.RougeL("", "a c"), Is.Zero);
        // rouge_score drops characters outside a-z0-9: "Café au lait" -> caf au lait
        Assert.That(TextMetrics.RougeTokens("Café au-lait, 2x!"), Is.EqualTo(new[] { "caf", "au", "lait", "2x" }));
    }

    [Test]
    public void Rouge_lsum_takes_the_union_of_line_level_subsequences_and_counts_each_token_at_most_as_often_as_it_occurs()
    {
        // Lines swapped: "a b" / "c d" against "c d" / "a b". Each reference line finds its match in the other line of the
        // prediction: hits 4 of 4 tokens on both sides -> 1 (ROUGE-L over the whole text: LCS 2 of 4 -> 0.5).
        Assert.That(TextMetrics.RougeLsum("c d\na b", "a b\nc d"), Is.EqualTo(1.0).Within(Tol));
        Assert.That(TextMetrics.RougeL("c d\na b", "a b\nc d"), Is.EqualTo(0.5).Within(Tol));
        // reference "the cat sat" / "on the mat" (6 tokens, 'the' twice), prediction "the cat" / "sat on mat" (5 tokens, 'the' once).
        // line 1: LCS with "the cat" = the cat, with "sat on mat" = sat -> union the cat sat: 3 hits ('the' now used up).
        // line 2: LCS with "the cat" = the, with "sat on mat" = on mat -> union on the mat: on, mat hit; 'the' is not
        // left in the prediction. hits 5: P = 5/5, R = 5/6 -> F = 2 * (5/6) / (11/6) = 10/11.
        Assert.That(TextMetrics.RougeLsum("the cat\nsat on mat", "the cat sat\non the mat"), Is.EqualTo(10.0 / 11).Within(Tol));
        // Without line breaks it is ROUGE-L; empty lines are skipped; no token on a side -> 0.
        Assert.That(TextMetrics.RougeLsum("The cat sat on the mat.", "the cat is on the mat"), Is.EqualTo(5.0 / 6).Within(Tol));
        Assert.That(TextMetrics.RougeLsum("c d\n\na b\n", "a b\nc d"), Is.EqualTo(1.0).Within(Tol));
        Assert.That(TextMetrics.RougeLsum("...", "a b"), Is.Zero);
    }

    [Test]
    public void Token_f1_normalizes_as_squad()
    {
        // "The Cat sat!" -> cat sat; "a cat sat down" -> cat sat down; common 2 -> P = 1, R = 2/3, F1 = 2*(2/3)/(5/3) = 0.8
        Assert.That(TextMetrics.TokenF1("The Cat sat!", "a cat sat down"), Is.EqualTo(0.8).Within(Tol));
        // both normalize to no token -> 1; one side empty -> 0; nothing shared -> 0
        Assert.That(TextMetrics.TokenF1("the", ""), Is.EqualTo(1));
        Assert.That(TextMetrics.TokenF1("x", ""), Is.Zero);
        Assert.That(TextMetrics.TokenF1("x y", "z"), Is.Zero);
        Assert.That(TextMetrics.ExactMatch("Paris", "Paris"), Is.EqualTo(1));
        Assert.That(TextMetrics.ExactMatch("Paris", "paris"), Is.Zero);
    }

    [Test]
    public void Bleu_pools_clipped_ngram_precisions_with_a_brevity_penalty()
    {
        // "the cat sat on the mat" vs "the cat sat on a mat": p1 = 5/6 (the clipped to 1), p2 = 3/5, p3 = 2/4, p4 = 1/3,
        // equal lengths -> BP = 1; BLEU = (5/6 * 3/5 * 1/2 * 1/3)^(1/4) = (1/12)^(1/4)
        Assert.That(TextMetrics.Bleu(["the cat sat on the mat"], ["the cat sat on a mat"]), Is.EqualTo(Math.Pow(1.0 / 12, 0.25)).Within(Tol));
        // all precisions 1, output 4 tokens for 6 -> BP = exp(1 - 6/4) = exp(-0.5)
        Assert.That(TextMetrics.Bleu(["the cat sat on"], ["the cat sat on the mat"]), Is.EqualTo(Math.Exp(-0.5)).Within(Tol));
        // counts pool over the corpus: the second pair alone has no 4-gram but the corpus does
        Assert.That(TextMetrics.Bleu(["the cat sat on", "hi"], ["the cat sat on", "hi"]), Is.EqualTo(1.0).Within(Tol));
        Assert.That(TextMetrics.Bleu(["a b"], ["c d"]), Is.Zero);
        Assert.That(TextMetrics.Tokenize13a("Hello, world. 3.5 x-1 2-3"), Is.EqualTo(new[] { "Hello", ",", "world", ".", "3.5", "x-1", "2", "-", "3" }));
    }

    [Test]
    public void Counts_words_and_characters()
    {
        Assert.That(TextMetrics.WordCount("  one two\tthree\n"), Is.EqualTo(3));
        Assert.That(TextMetrics.CharacterCount("a😀b"), Is.EqualTo(3));
    }
}
