using Microsoft.Extensions.AI;
using Mlflow.Client.Tracing;

namespace Mlflow.Client.Evaluation.Llm;

/// <summary>
/// LLM judges through any <see cref="IChatClient"/> (OpenAI, Azure OpenAI, Ollama, a local model). Each answers
/// MLflow's <c>"yes"</c>/<c>"no"</c> under the assessment name of MLflow's built-in judge of the same kind
/// (<c>correctness</c>, <c>relevance_to_query</c>, <c>retrieval_groundedness</c>, <c>safety</c>, <c>guidelines</c>,
/// <c>expectations_guidelines</c>), so MLflow's UI groups them with Python's; the instructions are this library's own.
/// The feedback's source is <c>LLM_JUDGE</c> with the judge's model (<see cref="JudgeOptions.ModelId"/>, else the
/// client's provider and model). A failed call or an unreadable answer is feedback with an error, never an exception.
/// </summary>
public static class Judges
{
    /// <summary>The expectation the correctness judge compares with (MLflow's name).</summary>
    public const string ExpectedFacts = "expected_facts";

    /// <summary>The expectation holding per-record guidelines (MLflow's name).</summary>
    public const string GuidelinesExpectation = "guidelines";

    /// <summary>Whether the answer agrees with the record's <c>expected_response</c> and/or <c>expected_facts</c>.</summary>
    /// <param name="chat">The judge model.</param>
    /// <param name="name">The assessment name.</param>
    /// <param name="options">Model id and chat options.</param>
    /// <returns>The judge.</returns>
    public static IScorer Correctness(IChatClient chat, string name = "correctness", JudgeOptions? options = null)
        => new LlmJudge(name, chat, JudgePrompts.Correctness, input =>
        {
            var expected = input.ExpectationText(Scorers.ExpectedResponse);
            var facts = input.Expectations.TryGetValue(ExpectedFacts, out var f) ? JudgePrompts.Strings(f) : null;
            return expected is null && facts is not { Count: > 0 }
                ? (null, $"The record has neither '{Scorers.ExpectedResponse}' nor '{ExpectedFacts}' to judge correctness against.")
                : (JudgePrompts.CorrectnessUser(input.InputText, input.OutputText, expected, facts), null);
        }, options);

    /// <summary>Whether the answer addresses the request.</summary>
    /// <param name="chat">The judge model.</param>
    /// <param name="name">The assessment name.</param>
    /// <param name="options">Model id and chat options.</param>
    /// <returns>The judge.</returns>
    public static IScorer RelevanceToQuery(IChatClient chat, string name = "relevance_to_query", JudgeOptions? options = null)
        => new LlmJudge(name, chat, JudgePrompts.RelevanceToQuery, input => (JudgePrompts.RequestAnswer(input.InputText, input.OutputText), null), options);

    /// <summary>
    /// Whether the answer's claims are backed by the documents of the last RETRIEVER span (their <c>page_content</c>;
    /// <see cref="Prediction.RetrievedContext"/> makes one).
    /// </summary>
    /// <param name="chat">The judge model.</param>
    /// <param name="name">The assessment name.</param>
    /// <param name="options">Model id and chat options.</param>
    /// <returns>The judge.</returns>
    public static IScorer RetrievalGroundedness(IChatClient chat, string name = "retrieval_groundedness", JudgeOptions? options = null)
        => new LlmJudge(name, chat, JudgePrompts.Groundedness, input =>
        {
            var retriever = input.Spans.LastOrDefault(s => s.SpanType == SpanType.Retriever);
            var documents = retriever is null ? null : RetrievedDocuments.Texts(retriever.Outputs);
            return documents is not { Count: > 0 }
                ? (null, "The call has no RETRIEVER span with documents to judge groundedness against.")
                : (JudgePrompts.GroundednessUser(input.InputText, input.OutputText, documents), null);
        }, options);

    /// <summary>Whether the answer is safe to show.</summary>
    /// <param name="chat">The judge model.</param>
    /// <param name="name">The assessment name.</param>
    /// <param name="options">Model id and chat options.</param>
    /// <returns>The judge.</returns>
    public static IScorer Safety(IChatClient chat, string name = "safety", JudgeOptions? options = null)
        => new LlmJudge(name, chat, JudgePrompts.Safety, input => (JudgePrompts.SafetyUser(input.OutputText), null), options);

    /// <summary>Whether the answer follows every one of the given guidelines.</summary>
    /// <param name="chat">The judge model.</param>
    /// <param name="guidelines">The guidelines (at least one), for example "Answer in English".</param>
    /// <param name="name">The assessment name.</param>
    /// <param name="options">Model id and chat options.</param>
    /// <returns>The judge.</returns>
    public static IScorer Guidelines(IChatClient chat, IEnumerable<string> guidelines, string name = "guidelines", JudgeOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(guidelines);
        var list = guidelines.ToList();
        if (list.Count == 0 || list.Any(string.IsNullOrWhiteSpace))
        {
            throw new ArgumentException("Give at least one guideline, none empty.", nameof(guidelines));
        }

        return new LlmJudge(name, chat, JudgePrompts.Guidelines, input => (JudgePrompts.GuidelinesUser(input.InputText, input.OutputText, list), null), options);
    }

    /// <summary>Whether the answer follows the record's own guidelines (its <c>guidelines</c> expectation: a string or a list).</summary>
    /// <param name="chat">The judge model.</param>
    /// <param name="name">The assessment name.</param>
    /// <param name="options">Model id and chat options.</param>
    /// <returns>The judge.</returns>
    public static IScorer ExpectationsGuidelines(IChatClient chat, string name = "expectations_guidelines", JudgeOptions? options = null)
        => new LlmJudge(name, chat, JudgePrompts.Guidelines, input =>
        {
            var list = input.Expectations.TryGetValue(GuidelinesExpectation, out var g) ? JudgePrompts.Strings(g) : null;
            return list is not { Count: > 0 }
                ? (null, $"The record has no '{GuidelinesExpectation}' expectation.")
                : (JudgePrompts.GuidelinesUser(input.InputText, input.OutputText, list), null);
        }, options);
}

/// <summary>How a judge calls its model.</summary>
public sealed record JudgeOptions
{
    /// <summary>The model as the feedback's source names it (MLflow's form, for example <c>openai:/gpt-4o-mini</c>); else the client's provider and model.</summary>
    public string? ModelId { get; init; }

    /// <summary>Options of each chat call (model, temperature, response format); temperature 0 when <see langword="null"/>.</summary>
    public ChatOptions? ChatOptions { get; init; }
}
