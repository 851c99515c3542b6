using System.Text;
using System.Text.RegularExpressions;

namespace Mlflow.Client.Evaluation;

/// <summary>
/// Metrics of generated text against a reference, per example: exact match, SQuAD token F1, ROUGE-1/2/L (F-measure,
/// as MLflow's <c>rouge1</c>/<c>rouge2</c>/<c>rougeL</c> metrics report through the <c>evaluate</c> library's
/// <c>rouge</c>, which uses Google's <c>rouge_score</c> without stemming), corpus BLEU, and word and character counts.
/// </summary>
public static partial class TextMetrics
{
    /// <summary>Whether the output equals the reference exactly (ordinal, no normalization), as MLflow's <c>exact_match/v1</c> (scikit-learn's accuracy over strings).</summary>
    /// <param name="prediction">The generated text.</param>
    /// <param name="reference">The expected text.</param>
    /// <returns>1 when equal, else 0.</returns>
    public static double ExactMatch(string prediction, string reference) => string.Equals(prediction, reference, StringComparison.Ordinal) ? 1 : 0;

    /// <summary>
    /// SQuAD's token F1: both texts are lower-cased, ASCII punctuation and the articles a/an/the are removed, whitespace
    /// splits the tokens; F1 of the multiset overlap. When either side has no token, 1 if both have none, else 0 (SQuAD 2.0).
    /// </summary>
    /// <param name="prediction">The generated text.</param>
    /// <param name="reference">The expected text.</param>
    /// <returns>The F1, in [0, 1].</returns>
    public static double TokenF1(string prediction, string reference)
    {
        var p = SquadTokens(prediction);
        var r = SquadTokens(reference);
        if (p.Count == 0 || r.Count == 0)
        {
            return p.Count == r.Count ? 1 : 0;
        }

        var same = Overlap(Counts(p), Counts(r));
        if (same == 0)
        {
            return 0;
        }

        double precision = (double)same / p.Count, recall = (double)same / r.Count;
        return 2 * precision * recall / (precision + recall);
    }

    /// <summary>ROUGE-N F-measure over n-grams of <see cref="RougeTokens"/> (rouge_score's <c>rouge1</c>/<c>rouge2</c>).</summary>
    /// <param name="prediction">The generated text.</param>
    /// <param name="reference">The expected text.</param>
    /// <param name="n">The n-gram length (1 or 2 for MLflow's metrics).</param>
    /// <returns>The F-measure, in [0, 1]; 0 when nothing overlaps.</returns>
    public static double RougeN(string prediction, string reference, int n)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(n, 1);
        var p = NGrams(RougeTokens(prediction), n);
        var r = NGrams(RougeTokens(reference), n);
        var overlap = Overlap(p, r);
        var precision = (double)overlap / Math.Max(p.Values.Sum(), 1);
        var recall = (double)overlap / Math.Max(r.Values.Sum(), 1);
        return FMeasure(precision, recall);
    }

    /// <summary>ROUGE-L F-measure: the longest common token subsequence over both lengths (rouge_score's <c>rougeL</c>).</summary>
    /// <param name="prediction">The generated text.</param>
    /// <param name="reference">The expected text.</param>
    /// <returns>The F-measure, in [0, 1]; 0 when either text has no token.</returns>
    public static double RougeL(string prediction, string reference)
    {
        var p = RougeTokens(prediction);
        var r = RougeTokens(reference);
        if (p.Count == 0 || r.Count == 0)
        {
            return 0;
        }

        var lcs = LongestCommonSubsequence(r, p);
        return FMeasure((double)lcs / p.Count, (double)lcs / r.Count);
    }

    /// <summary>
    /// ROUGE-Lsum F-measure (rouge_score's <c>rougeLsum</c>, as MLflow's <c>rougeLsum/v1</c> computes it): both texts are
    /// split into lines on <c>'\n'</c>; each reference line takes the union of its longest common subsequences with every
    /// predicted line, and a token counts at most as often as it occurs in each text. Without line breaks it equals
    /// <see cref="RougeL"/>.
    /// </summary>
    /// <param name="prediction">The generated text.</param>
    /// <param name="reference">The expected text.</param>
    /// <returns>The F-measure, in [0, 1]; 0 when either text has no token.</returns>
    public static double RougeLsum(string prediction, string reference)
    {
        var references = RougeLines(reference);
        var predictions = RougeLines(prediction);
        var referenceTokens = references.Sum(l => l.Count);
        var predictionTokens = predictions.Sum(l => l.Count);
        if (referenceTokens == 0 || predictionTokens == 0)
        {
            return 0;
        }

        var left = Counts(predictions.SelectMany(l => l));
        var wanted = Counts(references.SelectMany(l => l));
        var hits = 0;
        foreach (var line in references)
        {
            var union = new SortedSet<int>();
            foreach (var predicted in predictions)
            {
                union.UnionWith(LongestCommonSubsequenceIndices(line, predicted));
            }

            foreach (var token in union.Select(i => line[i]))
            {
                if (left.GetValueOrDefault(token) > 0 && wanted.GetValueOrDefault(token) > 0)
                {
                    hits++;
                    left[token]--;
                    wanted[token]--;
                }
            }
        }

        return FMeasure((double)hits / predictionTokens, (double)hits / referenceTokens);
    }

    /// <summary>
    /// rouge_score's default tokenizer: lower-case, every run of characters other than <c>a-z</c> and <c>0-9</c> becomes a
    /// separator (so letters outside ASCII are dropped, as in rouge_score), no stemming.
    /// </summary>
    /// <param name="text">The text.</param>
    /// <returns>The tokens.</returns>
    public static IReadOnlyList<string> RougeTokens(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        return NonAlphanumeric().Split(PythonText.Lower(text)).Where(t => t.Length > 0).ToList();
    }

    /// <summary>
    /// Corpus BLEU (Papineni et al.) as the <c>evaluate</c> library's <c>bleu</c>: n-grams up to 4 of the 13a-tokenized texts,
    /// clipped counts pooled over the corpus, geometric mean of the precisions without smoothing (0 when any precision is 0),
    /// times the brevity penalty exp(1 − r/c) when the outputs are shorter than the references.
    /// </summary>
    /// <param name="predictions">The generated texts.</param>
    /// <param name="references">One reference per prediction.</param>
    /// <returns>The score, in [0, 1].</returns>
    public static double Bleu(IReadOnlyList<string> predictions, IReadOnlyList<string> references)
    {
        ArgumentNullException.ThrowIfNull(predictions);
        ArgumentNullException.ThrowIfNull(references);
        if (predictions.Count != references.Count)
        {
            throw new ArgumentException($"{predictions.Count} predictions but {references.Count} references.", nameof(references));
        }

        const int maxOrder = 4;
        var matches = new long[maxOrder];
        var possible = new long[maxOrder];
        long predictionLength = 0, referenceLength = 0;
        for (var i = 0; i < predictions.Count; i++)
        {
            var p = Tokenize13a(predictions[i]);
            var r = Tokenize13a(references[i]);
            predictionLength += p.Count;
            referenceLength += r.Count;
            for (var n = 1; n <= maxOrder; n++)
            {
                matches[n - 1] += Overlap(NGrams(p, n), NGrams(r, n));
                possible[n - 1] += Math.Max(p.Count - n + 1, 0);
            }
        }

        var logSum = 0.0;
        for (var n = 0; n < maxOrder; n++)
        {
            if (possible[n] == 0 || matches[n] == 0)
            {
                return 0;
            }

            logSum += Math.Log((double)matches[n] / possible[n]) / maxOrder;
        }

        var ratio = (double)predictionLength / referenceLength;
        var brevity = ratio > 1 ? 1 : Math.Exp(1 - (1 / ratio));
        return Math.Exp(logSum) * brevity;
    }

    /// <summary>The 13a tokenizer of mteval (sacrebleu's default): punctuation and symbols become tokens; periods and commas too unless between digits.</summary>
    /// <param name="text">The text.</param>
    /// <returns>The tokens (case kept).</returns>
    public static IReadOnlyList<string> Tokenize13a(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var line = text.Replace("<skipped>", "", StringComparison.Ordinal).Replace("-\n", "", StringComparison.Ordinal).Replace('\n', ' ');
        if (line.Contains('&', StringComparison.Ordinal))
        {
            line = line.Replace("&quot;", "\"", StringComparison.Ordinal).Replace("&amp;", "&", StringComparison.Ordinal)
                .Replace("&lt;", "<", StringComparison.Ordinal).Replace("&gt;", ">", StringComparison.Ordinal);
        }

        line = " " + line + " ";
        line = Symbols13a().Replace(line, " $1 ");
        line = PeriodCommaAfterNonDigit().Replace(line, "$1 $2 ");
        line = PeriodCommaBeforeNonDigit().Replace(line, " $1 $2");
        line = DashAfterDigit().Replace(line, "$1 $2 ");
        return PythonText.Split(line);
    }

    /// <summary>
    /// The number of whitespace-separated words: the default of <see cref="TextEvaluationOptions.TokenCounter"/> (MLflow
    /// counts tiktoken <c>cl100k_base</c> tokens, which needs that vocabulary: plug it in there).
    /// </summary>
    /// <param name="text">The text.</param>
    /// <returns>The count.</returns>
    public static int WordCount(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        return PythonText.Split(text).Length;
    }

    /// <summary>The number of characters (Unicode scalar values, so a character outside the BMP counts once).</summary>
    /// <param name="text">The text.</param>
    /// <returns>The count.</returns>
    public static int CharacterCount(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        return text.EnumerateRunes().Count();
    }

    private static double FMeasure(double precision, double recall) => precision + recall > 0 ? 2 * precision * recall / (precision + recall) : 0;

    private static List<string> SquadTokens(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var lower = PythonText.Lower(text);
        var sb = new StringBuilder(lower.Length);
        foreach (var c in lower)
        {
            if (!(c < 128 && (char.IsPunctuation(c) || char.IsSymbol(c))))
            {
                sb.Append(c);
            }
        }

        var noArticles = Articles().Replace(sb.ToString(), " ");
        return [.. PythonText.Split(noArticles)];
    }

    private static Dictionary<string, int> Counts(IEnumerable<string> items)
    {
        var counts = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var item in items)
        {
            counts[item] = counts.GetValueOrDefault(item) + 1;
        }

        return counts;
    }

    private static Dictionary<string, int> NGrams(IReadOnlyList<string> tokens, int n)
    {
        var grams = new List<string>(Math.Max(tokens.Count - n + 1, 0));
        for (var i = 0; i + n <= tokens.Count; i++)
        {
            grams.Add(string.Join('\u0001', tokens.Skip(i).Take(n)));
        }

        return Counts(grams);
    }

    private static int Overlap(Dictionary<string, int> a, Dictionary<string, int> b)
    {
        var overlap = 0;
        foreach (var (gram, count) in a)
        {
            overlap += Math.Min(count, b.GetValueOrDefault(gram));
        }

        return overlap;
    }

    private static int LongestCommonSubsequence(IReadOnlyList<string> a, IReadOnlyList<string> b)
    {
        var previous = new int[b.Count + 1];
        var current = new int[b.Count + 1];
        for (var i = 1; i <= a.Count; i++)
        {
            for (var j = 1; j <= b.Count; j++)
            {
                current[j] = string.Equals(a[i - 1], b[j - 1], StringComparison.Ordinal) ? previous[j - 1] + 1 : Math.Max(previous[j], current[j - 1]);
            }

            (previous, current) = (current, previous);
        }

        return previous[b.Count];
    }

    /// <summary>The non-empty lines of <paramref name="text"/>, each as <see cref="RougeTokens"/>.</summary>
    private static List<IReadOnlyList<string>> RougeLines(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        return text.Split('\n').Where(l => l.Length > 0).Select(RougeTokens).ToList();
    }

    /// <summary>The positions in <paramref name="reference"/> of one longest common subsequence with <paramref name="candidate"/>, chosen as rouge_score's backtracking does.</summary>
    private static List<int> LongestCommonSubsequenceIndices(IReadOnlyList<string> reference, IReadOnlyList<string> candidate)
    {
        var table = new int[reference.Count + 1, candidate.Count + 1];
        for (var i = 1; i <= reference.Count; i++)
        {
            for (var j = 1; j <= candidate.Count; j++)
            {
                table[i, j] = string.Equals(reference[i - 1], candidate[j - 1], StringComparison.Ordinal)
                    ? table[i - 1, j - 1] + 1
                    : Math.Max(table[i - 1, j], table[i, j - 1]);
            }
        }

        var indices = new List<int>();
        for (int i = reference.Count, j = candidate.Count; i > 0 && j > 0;)
        {
            if (string.Equals(reference[i - 1], candidate[j - 1], StringComparison.Ordinal))
            {
                indices.Add(--i);
                j--;
            }
            else if (table[i, j - 1] > table[i - 1, j])
            {
                j--;
            }
            else
            {
                i--;
            }
        }

        return indices;
    }

    [GeneratedRegex("[^a-z0-9]+", RegexOptions.CultureInvariant)]
    private static partial Regex NonAlphanumeric();

    [GeneratedRegex(@"\b(a|an|the)\b", RegexOptions.CultureInvariant)]
    private static partial Regex Articles();

    [GeneratedRegex(@"([{-~\[-` -&(-+:-@/])", RegexOptions.CultureInvariant)]
    private static partial Regex Symbols13a();

    [GeneratedRegex(@"([^0-9])([\.,])", RegexOptions.CultureInvariant)]
    private static partial Regex PeriodCommaAfterNonDigit();

    [GeneratedRegex(@"([\.,])([^0-9])", RegexOptions.CultureInvariant)]
    private static partial Regex PeriodCommaBeforeNonDigit();

    [GeneratedRegex(@"([0-9])(-)", RegexOptions.CultureInvariant)]
    private static partial Regex DashAfterDigit();
}
