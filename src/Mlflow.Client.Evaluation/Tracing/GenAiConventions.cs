namespace Mlflow.Client.Tracing;

/// <summary>
/// The OpenTelemetry GenAI semantic-convention names the span conversion reads (what Microsoft.Extensions.AI's
/// <c>OpenTelemetryChatClient</c> and Semantic Kernel emit), and the MLflow span attributes it writes, under the names
/// MLflow 3.11.1's own OTel translation gives them (<c>mlflow/tracing/otel/translation/genai_semconv.py</c>,
/// <c>mlflow/tracing/constant.py</c>).
/// </summary>
internal static class GenAiConventions
{
    // What the GenAI conventions name.
    public const string OperationName = "gen_ai.operation.name";
    public const string RequestModel = "gen_ai.request.model";
    public const string ResponseModel = "gen_ai.response.model";
    public const string ProviderName = "gen_ai.provider.name";
    public const string System = "gen_ai.system";
    public const string InputMessages = "gen_ai.input.messages";
    public const string OutputMessages = "gen_ai.output.messages";
    public const string ToolCallArguments = "gen_ai.tool.call.arguments";
    public const string ToolCallResult = "gen_ai.tool.call.result";
    public const string ToolDefinitions = "gen_ai.tool.definitions";
    public const string InputTokens = "gen_ai.usage.input_tokens";
    public const string OutputTokens = "gen_ai.usage.output_tokens";

    // Older names, still emitted by some libraries: the prompt and completion as attributes or as events
    // (Semantic Kernel: event gen_ai.content.prompt with attribute gen_ai.prompt), the token counts.
    public const string Prompt = "gen_ai.prompt";
    public const string Completion = "gen_ai.completion";
    public const string PromptEvent = "gen_ai.content.prompt";
    public const string CompletionEvent = "gen_ai.content.completion";
    public const string PromptTokens = "gen_ai.usage.prompt_tokens";
    public const string CompletionTokens = "gen_ai.usage.completion_tokens";
    public const string SemanticKernelPromptTokens = "gen_ai.response.prompt_tokens";
    public const string SemanticKernelCompletionTokens = "gen_ai.response.completion_tokens";

    // Per-message events of the conventions before gen_ai.input.messages.
    public const string SystemMessageEvent = "gen_ai.system.message";
    public const string UserMessageEvent = "gen_ai.user.message";
    public const string AssistantMessageEvent = "gen_ai.assistant.message";
    public const string ChoiceEvent = "gen_ai.choice";

    // The body of those events as Semantic Kernel's connectors record it: the message (or choice) as JSON text.
    public const string EventContent = "gen_ai.event.content";

    // MLflow's span attributes (SpanAttributeKey).
    public const string TokenUsageAttribute = "mlflow.chat.tokenUsage";
    public const string ModelAttribute = "mlflow.llm.model";
    public const string ModelProviderAttribute = "mlflow.llm.provider";
    public const string ChatToolsAttribute = "mlflow.chat.tools";

    // MLflow's trace metadata (TraceMetadataKey.TOKEN_USAGE) and token usage keys (TokenUsageKey).
    public const string TraceTokenUsageMetadata = "mlflow.trace.tokenUsage";
    public const string InputTokensKey = "input_tokens";
    public const string OutputTokensKey = "output_tokens";
    public const string TotalTokensKey = "total_tokens";

    /// <summary>
    /// The MLflow span type of a GenAI operation, as MLflow maps <c>gen_ai.operation.name</c>, plus the names Semantic
    /// Kernel used before the conventions settled (<c>chat.completions</c>, <c>text.completions</c>) and <c>retrieval</c>.
    /// </summary>
    public static string? SpanTypeOf(string? operation) => operation switch
    {
        "chat" or "chat.completions" => SpanType.ChatModel,
        "create_agent" or "invoke_agent" => SpanType.Agent,
        "embeddings" => SpanType.Embedding,
        "execute_tool" => SpanType.Tool,
        "generate_content" or "text_completion" or "text.completions" or "response" => SpanType.Llm,
        "retrieval" => SpanType.Retriever,
        _ => null,
    };
}
