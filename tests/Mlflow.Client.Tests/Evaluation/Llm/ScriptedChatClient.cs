using Microsoft.Extensions.AI;

namespace Mlflow.Client.Tests.Evaluation.Llm;

/// <summary>A chat client that answers from a script: deterministic text per call, or an exception; it keeps what it was asked.</summary>
internal sealed class ScriptedChatClient : IChatClient
{
    private readonly Func<IReadOnlyList<ChatMessage>, string> _answer;
    private readonly List<IReadOnlyList<ChatMessage>> _calls = [];

    public ScriptedChatClient(Func<IReadOnlyList<ChatMessage>, string> answer) => _answer = answer;

    public static ScriptedChatClient Always(string text) => new(_ => text);

    public static ScriptedChatClient Throwing(Exception ex) => new(_ => throw ex);

    public IReadOnlyList<IReadOnlyList<ChatMessage>> Calls
    {
        get
        {
            lock (_calls)
            {
                return _calls.ToList();
            }
        }
    }

    public Task<ChatResponse> GetResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var list = messages.ToList();
        lock (_calls)
        {
            _calls.Add(list);
        }

        var text = _answer(list);
        return Task.FromResult(new ChatResponse(new ChatMessage(ChatRole.Assistant, text))
        {
            ModelId = "judge-1",
            Usage = new UsageDetails { InputTokenCount = 100, OutputTokenCount = 20, TotalTokenCount = 120 },
        });
    }

    public IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default)
        => throw new NotSupportedException();

    public object? GetService(Type serviceType, object? serviceKey = null)
        => serviceType == typeof(ChatClientMetadata) ? new ChatClientMetadata("scripted", null, "judge-1") : null;

    public void Dispose()
    {
    }
}
