using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.Extensions.AI;

/// <summary>
/// A deterministic stand-in for a language model, used when no endpoint is configured (no model may be downloaded on a
/// build machine). As the application's model it answers with the sentence of the given context that shares the most
/// words with the question; as a judge it compares the sections of the judge's request by word overlap and answers in
/// the JSON the judges ask for. Its verdicts are crude on purpose: it shows the plumbing, not a judgement.
/// </summary>
internal sealed partial class StandInChatClient : IChatClient
{
    public const string ModelId = "stand-in-overlap";

    public Task<ChatResponse> GetResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default)
    {
        var list = messages.ToList();
        var user = list.LastOrDefault(m => m.Role == ChatRole.User)?.Text ?? "";
        var judging = list.Any(m => m.Role == ChatRole.System && m.Text.Contains("\"result\"", StringComparison.Ordinal)); // the judges ask for {"rationale", "result"}
        var text = judging ? Judge(user) : AnswerFromContext(list);
        var response = new ChatResponse(new ChatMessage(ChatRole.Assistant, text))
        {
            ModelId = ModelId,
            Usage = new UsageDetails { InputTokenCount = Words(string.Join(' ', list.Select(m => m.Text))).Count, OutputTokenCount = Words(text).Count },
        };
        return Task.FromResult(response);
    }

    public IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default)
        => throw new NotSupportedException("The stand-in does not stream.");

    public object? GetService(Type serviceType, object? serviceKey = null) => serviceType.IsInstanceOfType(this) ? this : null;

    public void Dispose()
    {
    }

    /// <summary>The context sentence with the most words in common with the question.</summary>
    private static string AnswerFromContext(List<ChatMessage> messages)
    {
        var question = Words(messages.Last(m => m.Role == ChatRole.User).Text);
        var context = string.Join(' ', messages.Where(m => m.Role == ChatRole.System).Select(m => m.Text[(m.Text.IndexOf('\n', StringComparison.Ordinal) + 1)..])); // the notes, after the instruction line
        var sentences = SentenceEnd().Split(context).Where(s => s.Length > 0).ToList();
        return sentences.Count == 0 ? "I do not know." : sentences.OrderByDescending(s => Words(s).Intersect(question).Count()).First().Trim();
    }

    /// <summary>A verdict by word overlap between the answer and what it is judged against (reference, documents or request).</summary>
    private static string Judge(string request)
    {
        var sections = Section().Matches(request).ToDictionary(m => m.Groups[1].Value, m => m.Groups[2].Value.Trim());
        var answer = Words(sections.GetValueOrDefault("Answer", ""));
        var against = sections.GetValueOrDefault("Reference answer") ?? sections.GetValueOrDefault("Retrieved documents") ?? sections.GetValueOrDefault("Request") ?? "";
        var expected = Words(against);
        var shared = expected.Count == 0 ? 0 : (double)expected.Intersect(answer).Count() / Math.Min(expected.Count, Math.Max(answer.Count, 1));
        var yes = sections.ContainsKey("Reference answer") ? shared >= 0.5 : shared >= 0.3 || !sections.ContainsKey("Request");
        var rationale = $"The stand-in found {shared:P0} of the words it compares in common.";
        return JsonSerializer.Serialize(new Dictionary<string, string> { ["rationale"] = rationale, ["result"] = yes ? "yes" : "no" });
    }

    private static HashSet<string> Words(string text) => [.. WordPattern().Matches(text.ToLowerInvariant()).Select(m => m.Value).Where(w => w.Length > 2)];

    [GeneratedRegex(@"[\p{L}\p{N}'-]+")]
    private static partial Regex WordPattern();

    [GeneratedRegex(@"(?<=[.!?])\s+")]
    private static partial Regex SentenceEnd();

    [GeneratedRegex(@"<<([^>]+)>>\n(.*?)(?=\n<<|\z)", RegexOptions.Singleline)]
    private static partial Regex Section();
}
