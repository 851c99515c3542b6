using System.Globalization;
using System.Text.Json.Nodes;
using Microsoft.Extensions.AI;
using Mlflow.Client.Tracing;

namespace Mlflow.Client.Evaluation.Llm;

/// <summary>
/// A judge that asks a chat model: builds its messages from the record (or decides it cannot judge), calls the
/// <see cref="IChatClient"/>, reads the JSON verdict, and records the call as a CHAT_MODEL span (for the scorer's own
/// trace, when scorers are traced; never on the record's trace).
/// A failed call or an unreadable answer becomes feedback with an error.
/// </summary>
internal sealed class LlmJudge : IScorer
{
    internal const string ParseError = "JUDGE_PARSE_ERROR";
    internal const string CallError = "JUDGE_ERROR";
    internal const string MissingInput = "MISSING_INPUT";
    private const string InputTokensMetadata = "mlflow.assessment.judgeInputTokens";
    private const string OutputTokensMetadata = "mlflow.assessment.judgeOutputTokens";

    private readonly IChatClient _chat;
    private readonly string _instructions;
    private readonly Func<ScorerInput, (string? UserMessage, string? Missing)> _build;
    private readonly ChatOptions? _options;
    private readonly string? _modelId;

    public LlmJudge(string name, IChatClient chat, string instructions, Func<ScorerInput, (string? UserMessage, string? Missing)> build, JudgeOptions? options)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentNullException.ThrowIfNull(chat);
        Name = name;
        _chat = chat;
        _instructions = instructions;
        _build = build;
        _options = options?.ChatOptions;
        _modelId = options?.ModelId;
    }

    public string Name { get; }

    public async Task<Feedback> ScoreAsync(ScorerInput input, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(input);
        var source = AssessmentSource.LlmJudge(_modelId ?? ModelIdFromClient() ?? "unknown");
        var (user, missing) = _build(input);
        if (user is null)
        {
            return Feedback.Failed(Name, source, MissingInput, missing ?? "The record lacks what this judge needs.");
        }

        var messages = new List<ChatMessage> { new(ChatRole.System, _instructions), new(ChatRole.User, user) };
        var clock = input.Clock;
        var started = clock.GetUtcNow();
        ChatResponse response;
        try
        {
            response = await _chat.GetResponseAsync(messages, _options?.Clone() ?? new ChatOptions { Temperature = 0 }, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            Record(input, messages, started, clock.GetUtcNow(), null, null, ex.GetType().Name + ": " + ex.Message);
            return Feedback.Failed(Name, source, CallError, $"The judge's chat call failed: {ex.GetType().Name}: {ex.Message}");
        }

        var text = response.Text;
        if (_modelId is null && !string.IsNullOrEmpty(response.ModelId))
        {
            source = AssessmentSource.LlmJudge(Provider() is { } provider ? provider + ":/" + response.ModelId : response.ModelId);
        }

        Record(input, messages, started, clock.GetUtcNow(), text, response.Usage, null);
        var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
        if (response.Usage?.InputTokenCount is { } inputTokens)
        {
            metadata[InputTokensMetadata] = inputTokens.ToString(CultureInfo.InvariantCulture);
        }

        if (response.Usage?.OutputTokenCount is { } outputTokens)
        {
            metadata[OutputTokensMetadata] = outputTokens.ToString(CultureInfo.InvariantCulture);
        }

        var (verdict, rationale, problem) = JudgeAnswer.Parse(text);
        return verdict is null
            ? Feedback.Failed(Name, source, ParseError, problem!) with { Metadata = metadata }
            : new Feedback { Name = Name, Value = JsonValue.Create(verdict), Rationale = rationale, Source = source, Metadata = metadata };
    }

    /// <summary>The model as MLflow names a judge's (<c>provider:/model</c>), from the client's metadata.</summary>
    private string? ModelIdFromClient()
    {
        var metadata = _chat.GetService<ChatClientMetadata>();
        if (string.IsNullOrEmpty(metadata?.DefaultModelId))
        {
            return null;
        }

        return string.IsNullOrEmpty(metadata.ProviderName) ? metadata.DefaultModelId : metadata.ProviderName + ":/" + metadata.DefaultModelId;
    }

    private string? Provider() => _chat.GetService<ChatClientMetadata>()?.ProviderName is { Length: > 0 } p ? p : null;

    /// <summary>The chat call as a CHAT_MODEL span under the record's root span, messages in and the answer out (OpenAI's shape, which MLflow's UI shows as a chat).</summary>
    private void Record(ScorerInput input, List<ChatMessage> messages, DateTimeOffset started, DateTimeOffset ended, string? answer, UsageDetails? usage, string? error)
    {
        var attributes = new Dictionary<string, JsonNode?>(StringComparer.Ordinal);
        if (usage is not null)
        {
            var tokens = new JsonObject();
            if (usage.InputTokenCount is { } i)
            {
                tokens["input_tokens"] = i;
            }

            if (usage.OutputTokenCount is { } o)
            {
                tokens["output_tokens"] = o;
            }

            if (usage.TotalTokenCount is { } t)
            {
                tokens["total_tokens"] = t;
            }

            attributes[Scorers.TokenUsageAttribute] = tokens;
        }

        var inputs = new JsonObject
        {
            ["messages"] = new JsonArray(messages.Select(m => (JsonNode)new JsonObject { ["role"] = m.Role.Value, ["content"] = m.Text }).ToArray()),
        };
        JsonNode? outputs = answer is null ? null : new JsonObject
        {
            ["choices"] = new JsonArray(new JsonObject { ["message"] = new JsonObject { ["role"] = "assistant", ["content"] = answer } }),
        };
        input.AddJudgeSpan(new TraceSpan
        {
            SpanId = TraceIds.NewSpanId(),
            ParentSpanId = input.ParentSpanId,
            Name = Name,
            StartTimeUnixNano = UnixNanos(started),
            EndTimeUnixNano = UnixNanos(ended),
            Status = error is null ? TraceSpanStatus.Ok : TraceSpanStatus.Error,
            StatusMessage = error ?? "",
            SpanType = SpanType.ChatModel,
            Inputs = inputs,
            Outputs = outputs,
            Attributes = attributes,
        });
    }

    internal static long UnixNanos(DateTimeOffset time) => (time.UtcTicks - DateTimeOffset.UnixEpoch.UtcTicks) * 100;
}
