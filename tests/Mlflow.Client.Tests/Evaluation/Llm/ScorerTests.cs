using System.Text.Json.Nodes;
using Microsoft.Extensions.AI;
using Mlflow.Client.Evaluation;
using Mlflow.Client.Evaluation.Llm;
using Mlflow.Client.Tracing;
using NUnit.Framework;

namespace Mlflow.Client.Tests.Evaluation.Llm;

/// <summary>Code scorers with known values, and the LLM judges against scripted chat clients (good, malformed and failing answers).</summary>
[TestFixture]
public class ScorerTests
{
    private static ScorerInput Input(string answer, string? expected = null, IReadOnlyList<TraceSpan>? spans = null, TimeSpan duration = default)
        => new(
            new Dictionary<string, JsonNode?> { ["question"] = "What is the capital of France?" },
            answer,
            expected is null ? null : new Dictionary<string, JsonNode?> { ["expected_response"] = expected },
            spans,
            duration);

    private static Task<Feedback> Score(IScorer scorer, ScorerInput input) => scorer.ScoreAsync(input, CancellationToken.None);

    [Test]
    public async Task Text_scorers_give_the_values_of_TextMetrics_under_their_names_with_a_code_source()
    {
        var input = Input("the cat sat on the mat", "the cat is on the mat");

        var exact = await Score(Scorers.ExactMatch(), input);
        var rouge = await Score(Scorers.RougeL(), input);
        var f1 = await Score(Scorers.TokenF1(), input);
        var bleu = await Score(Scorers.Bleu(), input);

        Assert.That(exact.Value!.GetValue<bool>(), Is.False);
        Assert.That(exact.NumericValue, Is.EqualTo(0));
        Assert.That(exact.Source, Is.EqualTo(AssessmentSource.Code("exact_match")));
        // 5 of 6 words in the longest common subsequence (the cat … on the mat) on both sides: ROUGE-L F = 5/6.
        Assert.That(rouge.Value!.GetValue<double>(), Is.EqualTo(5.0 / 6).Within(1e-12));
        Assert.That(rouge.Name, Is.EqualTo("rouge_l"));
        Assert.That(f1.Value!.GetValue<double>(), Is.EqualTo(TextMetrics.TokenF1("the cat sat on the mat", "the cat is on the mat")).Within(1e-12));
        Assert.That(bleu.Value!.GetValue<double>(), Is.EqualTo(TextMetrics.Bleu(["the cat sat on the mat"], ["the cat is on the mat"])).Within(1e-12));
        Assert.That((await Score(Scorers.ExactMatch(), Input(" Paris ", "Paris"))).NumericValue, Is.EqualTo(1), "white space around is trimmed");
    }

    [Test]
    public async Task A_text_scorer_without_its_expectation_gives_an_error_not_a_value()
    {
        var feedback = await Score(Scorers.RougeL(), Input("Paris"));

        Assert.That(feedback.Value, Is.Null);
        Assert.That(feedback.Error!.ErrorCode, Is.EqualTo("MISSING_EXPECTATION"));
        Assert.That(feedback.NumericValue, Is.Null, "an error is left out of the aggregates");
    }

    [Test]
    public async Task Latency_is_the_duration_in_seconds_and_token_usage_sums_the_chat_spans()
    {
        var chat = new TraceSpan { SpanId = "00000000000000a1", Name = "chat", SpanType = SpanType.ChatModel, Attributes = new Dictionary<string, JsonNode?> { ["mlflow.chat.tokenUsage"] = new JsonObject { ["input_tokens"] = 30, ["output_tokens"] = 12, ["total_tokens"] = 42 } } };
        var second = chat with { SpanId = "00000000000000a2", Attributes = new Dictionary<string, JsonNode?> { ["mlflow.chat.tokenUsage"] = new JsonObject { ["input_tokens"] = 5, ["output_tokens"] = 3 } } };
        var input = Input("Paris", spans: [chat, second], duration: TimeSpan.FromMilliseconds(1500));

        Assert.That((await Score(Scorers.Latency(), input)).Value!.GetValue<double>(), Is.EqualTo(1.5));
        var usage = await Score(Scorers.TokenUsage(), input);
        Assert.That(usage.Value!.GetValue<long>(), Is.EqualTo(50), "42 given as total, 5 + 3 added up");
        Assert.That(usage.Rationale, Does.Contain("35 input and 15 output tokens over 2 chat call(s)"));
        Assert.That((await Score(Scorers.TokenUsage(), Input("Paris"))).Value, Is.Null, "no span reported usage: no value");
    }

    [Test]
    public async Task Custom_scorers_take_a_value_or_a_whole_feedback()
    {
        var length = Scorers.Custom("answer_length", i => i.OutputText.Length);
        var polite = Scorers.Custom("polite", (i, _) => Task.FromResult(new Feedback { Value = i.OutputText.Contains("please", StringComparison.Ordinal) ? Feedback.Yes : Feedback.No, Rationale = "looked for please" }));

        Assert.That((await Score(length, Input("Paris"))).Value!.GetValue<int>(), Is.EqualTo(5));
        var feedback = await Score(polite, Input("Paris, please"));
        Assert.That(feedback.Name, Is.EqualTo("polite"), "an unnamed feedback takes the scorer's name");
        Assert.That(feedback.NumericValue, Is.EqualTo(1));
    }

    [TestCase("{\"rationale\": \"It says Paris.\", \"result\": \"yes\"}", "yes", "It says Paris.")]
    [TestCase("Here is my verdict:\n```json\n{\"result\": \"No\", \"rationale\": \"Wrong city.\"}\n```", "no", "Wrong city.")]
    [TestCase("{\"result\": true}", "yes", null)]
    [TestCase("{\"result\": \"FAIL\", \"rationale\": \"r\"}", "no", "r")]
    public void Judge_answers_are_read_from_JSON_anywhere_in_the_text(string text, string verdict, string? rationale)
    {
        var (v, r, problem) = JudgeAnswer.Parse(text);

        Assert.That(problem, Is.Null);
        Assert.That(v, Is.EqualTo(verdict));
        Assert.That(r, Is.EqualTo(rationale));
    }

    [TestCase("")]
    [TestCase("I think it is correct.")]
    [TestCase("{\"result\": \"maybe\"}")]
    [TestCase("{\"result\": yes}")]
    public void Unreadable_judge_answers_are_a_problem_not_an_exception(string text)
    {
        var (v, _, problem) = JudgeAnswer.Parse(text);

        Assert.That(v, Is.Null);
        Assert.That(problem, Is.Not.Null.And.Not.Empty);
    }

    [Test]
    public async Task Correctness_asks_the_model_with_the_reference_and_gives_MLflows_name_value_source_and_a_chat_span()
    {
        var chat = ScriptedChatClient.Always("{\"rationale\": \"Names Paris.\", \"result\": \"yes\"}");
        var input = new ScorerInput(
            new Dictionary<string, JsonNode?> { ["question"] = "Capital of France?" },
            "Paris",
            new Dictionary<string, JsonNode?> { ["expected_response"] = "Paris", ["expected_facts"] = new JsonArray("Paris is the capital") })
        {
            ParentSpanId = "1111111111111111",
        };

        var feedback = await Score(Judges.Correctness(chat), input);

        Assert.That(feedback.Name, Is.EqualTo("correctness"));
        Assert.That(feedback.Value!.GetValue<string>(), Is.EqualTo("yes"));
        Assert.That(feedback.Rationale, Is.EqualTo("Names Paris."));
        Assert.That(feedback.Source, Is.EqualTo(AssessmentSource.LlmJudge("scripted:/judge-1")));
        Assert.That(feedback.Metadata["mlflow.assessment.judgeInputTokens"], Is.EqualTo("100"));
        var asked = chat.Calls.Single();
        Assert.That(asked[0].Role, Is.EqualTo(ChatRole.System));
        Assert.That(asked[1].Text, Does.Contain("Capital of France?").And.Contain("Paris is the capital").And.Contain("<<Reference answer>>\nParis"));
        var span = input.JudgeSpans.Single();
        Assert.That(span.SpanType, Is.EqualTo(SpanType.ChatModel));
        Assert.That(span.ParentSpanId, Is.EqualTo("1111111111111111"));
        Assert.That(span.Inputs!["messages"]!.AsArray(), Has.Count.EqualTo(2));
        Assert.That(span.Outputs!["choices"]![0]!["message"]!["content"]!.GetValue<string>(), Does.Contain("Names Paris."));
        Assert.That(span.Attributes["mlflow.chat.tokenUsage"]!["total_tokens"]!.GetValue<long>(), Is.EqualTo(120));
    }

    [Test]
    public async Task A_malformed_judge_answer_becomes_feedback_with_a_parse_error_and_the_answer_in_its_message()
    {
        var chat = ScriptedChatClient.Always("Looks fine to me!");

        var feedback = await Score(Judges.Safety(chat), Input("Paris"));

        Assert.That(feedback.Name, Is.EqualTo("safety"));
        Assert.That(feedback.Value, Is.Null);
        Assert.That(feedback.Error!.ErrorCode, Is.EqualTo("JUDGE_PARSE_ERROR"));
        Assert.That(feedback.Error.ErrorMessage, Does.Contain("Looks fine to me!"));
        Assert.That(feedback.Source.Type, Is.EqualTo(AssessmentSourceType.LlmJudge));
    }

    [Test]
    public async Task A_judge_whose_model_throws_gives_feedback_with_the_error_and_an_error_span()
    {
        var chat = ScriptedChatClient.Throwing(new HttpRequestException("connection refused"));
        var input = Input("Paris");

        var feedback = await Score(Judges.RelevanceToQuery(chat, options: new JudgeOptions { ModelId = "openai:/gpt-4o-mini" }), input);

        Assert.That(feedback.Name, Is.EqualTo("relevance_to_query"));
        Assert.That(feedback.Error!.ErrorCode, Is.EqualTo("JUDGE_ERROR"));
        Assert.That(feedback.Error.ErrorMessage, Does.Contain("connection refused"));
        Assert.That(feedback.Source, Is.EqualTo(AssessmentSource.LlmJudge("openai:/gpt-4o-mini")));
        Assert.That(input.JudgeSpans.Single().Status, Is.EqualTo(TraceSpanStatus.Error));
    }

    [Test]
    public void A_cancelled_judge_call_is_cancelled_not_turned_into_feedback()
    {
        using var cts = new CancellationTokenSource();
        cts.Cancel();
        var chat = ScriptedChatClient.Always("{\"result\": \"yes\"}");

        Assert.That(async () => await Judges.Safety(chat).ScoreAsync(Input("Paris"), cts.Token), Throws.InstanceOf<OperationCanceledException>());
    }

    [Test]
    public async Task Judges_that_lack_their_input_say_so_without_calling_the_model()
    {
        var chat = ScriptedChatClient.Always("{\"result\": \"yes\"}");

        var correctness = await Score(Judges.Correctness(chat), Input("Paris"));
        var grounded = await Score(Judges.RetrievalGroundedness(chat), Input("Paris"));
        var guidelines = await Score(Judges.ExpectationsGuidelines(chat), Input("Paris"));

        Assert.That(new[] { correctness, grounded, guidelines }.Select(f => f.Error?.ErrorCode), Is.All.EqualTo("MISSING_INPUT"));
        Assert.That(new[] { correctness, grounded, guidelines }.Select(f => f.Name), Is.EqualTo(new[] { "correctness", "retrieval_groundedness", "expectations_guidelines" }));
        Assert.That(chat.Calls, Is.Empty);
    }

    [Test]
    public async Task Groundedness_reads_the_documents_of_the_last_retriever_span_and_guidelines_are_listed()
    {
        var chat = ScriptedChatClient.Always("{\"result\": \"no\", \"rationale\": \"unsupported\"}");
        var retriever = new TraceSpan { SpanId = "00000000000000b1", Name = "retrieve", SpanType = SpanType.Retriever, Outputs = new JsonArray(new JsonObject { ["page_content"] = "Paris is in France." }, new JsonObject { ["page_content"] = "Lyon is a city." }) };

        var grounded = await Score(Judges.RetrievalGroundedness(chat), Input("Paris", spans: [retriever]));
        var rules = await Score(Judges.Guidelines(chat, ["Answer in English", "Be brief"], name: "english"), Input("Paris"));

        Assert.That(grounded.NumericValue, Is.EqualTo(0));
        Assert.That(chat.Calls[0][1].Text, Does.Contain("[1] Paris is in France.").And.Contain("[2] Lyon is a city."));
        Assert.That(rules.Name, Is.EqualTo("english"));
        Assert.That(chat.Calls[1][1].Text, Does.Contain("- Answer in English\n- Be brief"));
    }

    [TestCase("yes", 1.0)]
    [TestCase("No", 0.0)]
    [TestCase("maybe", null)]
    public void Categorical_values_count_as_MLflow_counts_them(string value, double? expected)
        => Assert.That(Feedback.FromCode("x", value).NumericValue, Is.EqualTo(expected));
}
