using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Mlflow.Client.Tracing;

namespace Mlflow.Client.Evaluation.Llm;

/// <summary>
/// Code scorers: text overlap with the expected response (the metrics of <see cref="TextMetrics"/>), latency, token
/// usage from the spans, and your own functions. Their feedback has source <c>CODE</c> with the scorer's name.
/// </summary>
public static class Scorers
{
    /// <summary>The expectation the text scorers compare with by default (MLflow's name).</summary>
    public const string ExpectedResponse = "expected_response";

    /// <summary>The span attribute MLflow keeps a chat call's token counts in (<c>input_tokens</c>, <c>output_tokens</c>, <c>total_tokens</c>).</summary>
    internal const string TokenUsageAttribute = "mlflow.chat.tokenUsage";

    /// <summary>Whether the answer equals the expected response exactly (after trimming white space): <see langword="true"/> or <see langword="false"/>.</summary>
    /// <param name="expectation">The expectation to compare with.</param>
    /// <param name="name">The scorer's name.</param>
    /// <returns>The scorer.</returns>
    public static IScorer ExactMatch(string expectation = ExpectedResponse, string name = "exact_match")
        => Reference(name, expectation, (answer, expected) => JsonValue.Create(TextMetrics.ExactMatch(answer.Trim(), expected.Trim()) == 1));

    /// <summary>ROUGE-L F-measure of the answer against the expected response (0 to 1, as <see cref="TextMetrics.RougeL"/>).</summary>
    /// <param name="expectation">The expectation to compare with.</param>
    /// <param name="name">The scorer's name.</param>
    /// <returns>The scorer.</returns>
    public static IScorer RougeL(string expectation = ExpectedResponse, string name = "rouge_l")
        => Reference(name, expectation, (answer, expected) => JsonValue.Create(TextMetrics.RougeL(answer, expected)));

    /// <summary>Sentence BLEU of the answer against the expected response (0 to 1, <see cref="TextMetrics.Bleu"/> of one pair).</summary>
    /// <param name="expectation">The expectation to compare with.</param>
    /// <param name="name">The scorer's name.</param>
    /// <returns>The scorer.</returns>
    public static IScorer Bleu(string expectation = ExpectedResponse, string name = "bleu")
        => Reference(name, expectation, (answer, expected) => JsonValue.Create(TextMetrics.Bleu([answer], [expected])));

    /// <summary>Token F1 of the answer against the expected response (SQuAD's normalisation, 0 to 1, <see cref="TextMetrics.TokenF1"/>).</summary>
    /// <param name="expectation">The expectation to compare with.</param>
    /// <param name="name">The scorer's name.</param>
    /// <returns>The scorer.</returns>
    public static IScorer TokenF1(string expectation = ExpectedResponse, string name = "token_f1")
        => Reference(name, expectation, (answer, expected) => JsonValue.Create(TextMetrics.TokenF1(answer, expected)));

    /// <summary>How long the application took for the record, in seconds.</summary>
    /// <param name="name">The scorer's name.</param>
    /// <param name="aggregations">The aggregates logged (default mean, p90 and max).</param>
    /// <returns>The scorer.</returns>
    public static IScorer Latency(string name = "latency", ScoreAggregations aggregations = ScoreAggregations.Mean | ScoreAggregations.P90 | ScoreAggregations.Max)
        => new FuncScorer(name, aggregations, (input, _) => Task.FromResult(Feedback.FromCode(name, JsonValue.Create(input.Duration.TotalSeconds))));

    /// <summary>
    /// The tokens the application's chat calls used: the sum of <c>total_tokens</c> (or input plus output) of the
    /// <c>mlflow.chat.tokenUsage</c> attribute over its spans (captured while it answered, or <see cref="Prediction.Spans"/>),
    /// a span counted only when no ancestor reports usage, as MLflow sums a trace's. No value when no span reports usage.
    /// </summary>
    /// <param name="name">The scorer's name.</param>
    /// <returns>The scorer.</returns>
    public static IScorer TokenUsage(string name = "token_usage")
        => new FuncScorer(name, ScoreAggregations.Mean | ScoreAggregations.Max, (input, _) =>
        {
            long input_ = 0, output = 0, total = 0;
            var reported = 0;
            foreach (var u in TokenUsageAggregation.Counted(input.Spans))
            {
                reported++;
                var i = Count(u["input_tokens"]);
                var o = Count(u["output_tokens"]);
                input_ += i;
                output += o;
                total += u["total_tokens"] is null ? i + o : Count(u["total_tokens"]);
            }

            return Task.FromResult(reported == 0
                ? Feedback.FromCode(name, null, "No span reported token usage.")
                : Feedback.FromCode(name, JsonValue.Create(total), string.Create(CultureInfo.InvariantCulture, $"{input_} input and {output} output tokens over {reported} chat call(s).")));
        });

    /// <summary>A scorer from a function that returns the value (a boolean, number or string; <see langword="null"/> for none).</summary>
    /// <param name="name">The scorer's name.</param>
    /// <param name="score">Scores one answer.</param>
    /// <param name="aggregations">The aggregates logged.</param>
    /// <returns>The scorer.</returns>
    public static IScorer Custom(string name, Func<ScorerInput, JsonNode?> score, ScoreAggregations aggregations = ScoreAggregations.Mean)
    {
        ArgumentNullException.ThrowIfNull(score);
        return new FuncScorer(name, aggregations, (input, _) => Task.FromResult(Feedback.FromCode(name, score(input))));
    }

    /// <summary>A scorer from an asynchronous function that returns the whole feedback (an empty name is replaced by the scorer's).</summary>
    /// <param name="name">The scorer's name.</param>
    /// <param name="score">Scores one answer.</param>
    /// <param name="aggregations">The aggregates logged.</param>
    /// <returns>The scorer.</returns>
    public static IScorer Custom(string name, Func<ScorerInput, CancellationToken, Task<Feedback>> score, ScoreAggregations aggregations = ScoreAggregations.Mean)
    {
        ArgumentNullException.ThrowIfNull(score);
        return new FuncScorer(name, aggregations, async (input, ct) =>
        {
            var feedback = await score(input, ct).ConfigureAwait(false) ?? throw new InvalidOperationException($"Scorer '{name}' returned no feedback.");
            return feedback.Name.Length == 0 ? feedback with { Name = name } : feedback;
        });
    }

    private static FuncScorer Reference(string name, string expectation, Func<string, string, JsonNode?> compare)
    {
        ArgumentException.ThrowIfNullOrEmpty(expectation);
        return new FuncScorer(name, ScoreAggregations.Mean, (input, _) =>
        {
            var expected = input.ExpectationText(expectation);
            return Task.FromResult(expected is null
                ? Feedback.Failed(name, AssessmentSource.Code(name), "MISSING_EXPECTATION", $"The record has no expectation '{expectation}' to compare with.")
                : Feedback.FromCode(name, compare(input.OutputText, expected)));
        });
    }

    private static long Count(JsonNode? node)
        => node is JsonValue v && v.GetValueKind() == JsonValueKind.Number ? (long)Feedback.Number(v) : 0;

    private sealed class FuncScorer : IScorer
    {
        private readonly Func<ScorerInput, CancellationToken, Task<Feedback>> _score;

        public FuncScorer(string name, ScoreAggregations aggregations, Func<ScorerInput, CancellationToken, Task<Feedback>> score)
        {
            ArgumentException.ThrowIfNullOrEmpty(name);
            Name = name;
            Aggregations = aggregations;
            _score = score;
        }

        public string Name { get; }

        public ScoreAggregations Aggregations { get; }

        public Task<Feedback> ScoreAsync(ScorerInput input, CancellationToken cancellationToken)
        {
            ArgumentNullException.ThrowIfNull(input);
            return _score(input, cancellationToken);
        }
    }
}
