using Microsoft.Extensions.AI;

namespace Mlflow.Client.Tests.Tracing.Capture;

/// <summary>A chat client that answers from a script (no model): each call takes the next answer, with token usage.</summary>
internal sealed class ScriptedChatClient(params string[] answers) : IChatClient
{
    private int _next;

    public Task<ChatResponse> GetResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default)
    {
        var index = Interlocked.Increment(ref _next) - 1;
        if (index >= answers.Length)
        {
            throw new InvalidOperationException("The script has no more answers.");
        }

        var words = messages.Sum(m => m.Text.Split(' ', StringSplitOptions.RemoveEmptyEntries).Length);
        return Task.FromResult(new ChatResponse(new ChatMessage(ChatRole.Assistant, answers[index]))
        {
            ModelId = "scripted-1",
            ResponseId = $"resp-{index}",
            FinishReason = ChatFinishReason.Stop,
            Usage = new UsageDetails { InputTokenCount = words, OutputTokenCount = answers[index].Split(' ').Length },
        });
    }

    public IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default)
        => throw new NotSupportedException();

    public object? GetService(Type serviceType, object? serviceKey = null)
        => serviceType == typeof(ChatClientMetadata) ? new ChatClientMetadata("scripted", null, "scripted-1") : null;

    public void Dispose()
    {
    }
}
