using System.ClientModel;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.AI;
using Mlflow.Client;
using Mlflow.Client.Evaluation.Llm;
using OpenAI;
using Spectre.Console;

// Evaluates a small question-answering application over ten documents against 22 questions with expected answers, the
// MLflow 3 way: one trace per question, code scorers and LLM judges as assessments on each trace, their means on the run.
// The model is any OpenAI-compatible endpoint (LLM_ENDPOINT, LLM_API_KEY, LLM_MODEL); without one, a deterministic
// stand-in answers, and the sample says so. The application's chat client is built with UseOpenTelemetry, so each
// question's trace holds its model call as a CHAT_MODEL span with the messages and token usage; the judges use the
// plain client (they run outside the questions' traces). No server: the local store ./mlruns keeps the run, the traces
// and their assessments in MLflow 3's file layout (mlflow-sync pushes them to an MLflow 3 server later); with
// MLFLOW_TRACKING_URI=http://host:5000 they go to that server.
var (judgeChat, model) = CreateChatClient();
using var chat = judgeChat.AsBuilder().UseOpenTelemetry(configure: o => o.EnableSensitiveData = true).Build();
var documents = JsonSerializer.Deserialize<List<Document>>(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "data", "documents.json")), JsonSerializerOptions.Web)!;
var dataset = EvaluationDataset.FromFile(Path.Combine(AppContext.BaseDirectory, "data", "questions.jsonl"), "mlflow-faq");

await using var tracker = MlflowTracker.Create(new MlflowTrackerOptions { ExperimentName = Environment.GetEnvironmentVariable("MLFLOW_EXPERIMENT_NAME") ?? "llm-evaluation" });
await using var run = tracker.StartRun("faq-bot");
run.LogParam("model", model);
run.LogParam("retriever", "word-overlap top 2");

LlmEvaluationResult result = null!;
await AnsiConsole.Progress().StartAsync(async progress =>
{
    var bar = progress.AddTask($"Evaluating {dataset.Records.Count} questions", maxValue: dataset.Records.Count);
    result = await run.EvaluateAsync(dataset,
        predict: async (inputs, ct) => await AnswerAsync(inputs["question"]!.GetValue<string>(), ct),
        scorers:
        [
            Scorers.ExactMatch(), Scorers.TokenF1(), Scorers.Latency(), Scorers.TokenUsage(),
            Judges.Correctness(judgeChat), Judges.RelevanceToQuery(judgeChat), Judges.RetrievalGroundedness(judgeChat), Judges.Safety(judgeChat),
            Judges.Guidelines(judgeChat, ["The answer is in English.", "The answer does not invent product names."]),
        ],
        new LlmEvaluationOptions { MaxConcurrency = 4, Progress = new Progress<int>(done => bar.Value = done) });
});

var table = new Table().AddColumns("question", "answer", "correctness", "token_f1");
foreach (var row in result.Rows.Take(8))
{
    var feedback = row.Feedback.ToDictionary(f => f.Name, f => f.Value?.ToJsonString() ?? (f.Error is null ? "" : "error"));
    table.AddRow(Markup.Escape(row.Record.Inputs["question"]!.GetValue<string>()), Markup.Escape(row.Outputs?.ToString() ?? ""), feedback.GetValueOrDefault("correctness", ""), feedback.GetValueOrDefault("token_f1", ""));
}

AnsiConsole.Write(table);
foreach (var (name, value) in result.Metrics.OrderBy(m => m.Key, StringComparer.Ordinal))
{
    Console.WriteLine($"{name,-32} {value:0.###}");
}

Console.WriteLine($"Run {run.RunId} in {tracker.Destination}; traces logged: {result.TracesLogged}");

async Task<Prediction> AnswerAsync(string question, CancellationToken cancellationToken)
{
    var words = question.ToLowerInvariant().Split(' ', StringSplitOptions.RemoveEmptyEntries).Select(w => w.Trim('?', '.', ',', '\'')).ToHashSet();
    var context = documents.OrderByDescending(d => d.Text.ToLowerInvariant().Split(' ').Count(words.Contains)).Take(2).Select(d => d.Text).ToList();
    var response = await chat.GetResponseAsync(
        [
            new ChatMessage(ChatRole.System, "Answer the question in one short sentence, from these notes only:\n" + string.Join('\n', context)),
            new ChatMessage(ChatRole.User, question),
        ], cancellationToken: cancellationToken);
    return new Prediction(JsonValue.Create(response.Text)) { RetrievedContext = context };
}

static (IChatClient Chat, string Model) CreateChatClient()
{
    var endpoint = Environment.GetEnvironmentVariable("LLM_ENDPOINT");
    if (string.IsNullOrWhiteSpace(endpoint))
    {
        AnsiConsole.MarkupLine("[yellow]No LLM_ENDPOINT set: answers and judgements come from a deterministic stand-in (word overlap), not a language model.[/]");
        return (new StandInChatClient(), StandInChatClient.ModelId);
    }

    var model = Environment.GetEnvironmentVariable("LLM_MODEL") ?? "gpt-4o-mini";
    var client = new OpenAIClient(new ApiKeyCredential(Environment.GetEnvironmentVariable("LLM_API_KEY") ?? "none"), new OpenAIClientOptions { Endpoint = new Uri(endpoint) });
    Console.WriteLine($"Model {model} at {new Uri(endpoint).GetLeftPart(UriPartial.Authority)}");
    return (client.GetChatClient(model).AsIChatClient(), model);
}

internal sealed record Document(string Id, string Text);
