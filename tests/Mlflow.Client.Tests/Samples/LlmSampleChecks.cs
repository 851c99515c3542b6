using System.Text.Json.Nodes;
using Mlflow.Client.Tests.Infrastructure;
using NUnit.Framework;

namespace Mlflow.Client.Tests.Samples;

/// <summary>
/// What MLflow 3's Python must see after samples/LlmEvaluation ran with the stand-in model, wherever the data went (a
/// server, the local store, a server after <c>mlflow-sync</c>): the JSON printed by <c>read_llm_sample.py</c>.
/// </summary>
internal static class LlmSampleChecks
{
    /// <summary>The sample's LLM judges (MLflow's built-in names): each gives a yes/no value with a rationale.</summary>
    public static readonly string[] Judges = ["correctness", "relevance_to_query", "retrieval_groundedness", "safety", "guidelines"];

    /// <summary>The sample's code scorers.</summary>
    public static readonly string[] CodeScorers = ["exact_match", "token_f1", "latency", "token_usage"];

    /// <summary>The read-back script beside this file.</summary>
    public static string Script => Path.Combine(RepoPaths.RepoRoot, "tests", "Mlflow.Client.Tests", "Samples", "read_llm_sample.py");

    /// <summary>The sample's dataset records: question and expected response.</summary>
    public static IReadOnlyDictionary<string, string> Dataset() =>
        File.ReadLines(Path.Combine(RepoPaths.RepoRoot, "samples", "LlmEvaluation", "data", "questions.jsonl"))
            .Where(l => l.Trim().Length > 0)
            .Select(l => JsonNode.Parse(l)!)
            .ToDictionary(r => (string)r["inputs"]!["question"]!, r => (string)r["expectations"]!["expected_response"]!);

    /// <summary>Runs the read-back script with MLflow 3's Python against <paramref name="trackingUri"/>.</summary>
    public static async Task<JsonNode> ReadBackAsync(string trackingUri, string experiment)
    {
        var printed = await MlflowPython.RunAsync(Script, trackingUri, experiment);
        var json = JsonNode.Parse(printed)!;
        TestContext.Progress.WriteLine($"read_llm_sample.py {trackingUri}: MLflow {json["version"]}, {json["runs"]!.AsArray().Count} run(s), {json["experiment_trace_count"]} trace(s); {printed.Length} characters");
        return json;
    }

    /// <summary>Asserts the whole done-when on one read-back; returns the evaluation run's JSON.</summary>
    public static JsonNode AssertReadBack(JsonNode theirs)
    {
        var dataset = Dataset();
        Assert.That((string)theirs["version"]!, Does.StartWith("3."), "MLflow 3's Python read it");
        var run = theirs["runs"]!.AsArray().Single()!;
        var runId = (string)run["run_id"]!;
        var traces = run["traces"]!.AsArray().Select(t => t!).ToList();
        Assert.Multiple(() =>
        {
            Assert.That((string)run["status"]!, Is.EqualTo("FINISHED"));
            Assert.That((string)run["params"]!["model"]!, Is.EqualTo("stand-in-overlap"));
            Assert.That((string)run["tags"]!["mlflow.runType"]!, Is.EqualTo("genai_evaluate"));
            var input = run["inputs"]!.AsArray().Single()!;
            Assert.That(((string)input["name"]!, (string)input["source_type"]!), Is.EqualTo(("mlflow-faq", "code")), "the dataset the evaluation logged");
            Assert.That((string)input["digest"]!, Does.Match("^[0-9a-f]{8}$"));

            Assert.That(traces, Has.Count.EqualTo(dataset.Count), "search_traces(run_id=...) finds one trace per record");
            Assert.That((int)theirs["experiment_trace_count"]!, Is.EqualTo(dataset.Count), "and no other trace in the experiment");
        });

        var questions = new List<string>();
        foreach (var trace in traces)
        {
            questions.Add(AssertTrace(trace, runId, dataset));
        }

        Assert.That(questions, Is.EquivalentTo(dataset.Keys), "each record once");
        AssertAggregates(run, traces);
        return run;
    }

    /// <summary>The assessments of a trace as (name, value, rationale) text, to compare two read-backs of the same trace.</summary>
    public static IEnumerable<string> AssessmentKeys(JsonNode trace) =>
        trace["assessments"]!.AsArray().Select(a => $"{a!["name"]}|{a["kind"]}|{a["value"]?.ToJsonString()}|{a["rationale"]}").Order(StringComparer.Ordinal);

    private static string AssertTrace(JsonNode trace, string runId, IReadOnlyDictionary<string, string> dataset)
    {
        var id = (string)trace["trace_id"]!;
        var spans = trace["spans"]!.AsArray().Select(s => s!).ToList();
        var root = spans.Single(s => s["parent_id"] is null);
        var question = (string)root["inputs"]!["question"]!;
        var chat = spans.Single(s => (string)s["span_type"]! == "CHAT_MODEL");
        var assessments = trace["assessments"]!.AsArray().Select(a => a!).ToList();
        Assert.Multiple(() =>
        {
            Assert.That((string)trace["state"]!, Does.Contain("OK"), id);
            Assert.That((string)trace["source_run"]!, Is.EqualTo(runId), id + ": linked to the evaluation run");
            Assert.That(((string)root["name"]!, (string)root["span_type"]!), Is.EqualTo(("predict", "CHAIN")), id);
            Assert.That(dataset.ContainsKey(question), Is.True, $"{id}: {question}");
            Assert.That((int)trace["searched_span_count"]!, Is.EqualTo(spans.Count), id + ": search_traces and get_trace see the same spans");
            Assert.That(spans.Where(s => s["parent_id"] is not null).Select(s => (string)s["parent_id"]!), Is.All.EqualTo((string)root["span_id"]!), id + ": the application's spans under the record's root");
            Assert.That(spans.Select(s => (string)s["span_type"]!), Does.Contain("RETRIEVER"), id);

            // The chat model span carries the messages (system prompt with the notes, the question) and the token usage.
            var chatStrings = Strings(chat["inputs"]).ToList();
            Assert.That(chatStrings, Has.Some.EqualTo(question), id + ": the user message in the chat span's inputs");
            Assert.That(chatStrings, Has.Some.StartsWith("Answer the question in one short sentence"), id + ": the system message");
            Assert.That((int)chat["token_usage"]!["total_tokens"]!, Is.GreaterThan(0), id);

            Assert.That(assessments.Select(a => (string?)a["run_id"]), Is.All.EqualTo(runId), id + ": every assessment names the evaluation run");
            Assert.That(assessments.Select(a => (string)a["name"]!), Is.EquivalentTo(Judges.Concat(CodeScorers).Append("expected_response")), id + ": every scorer once, and the expectation");
            foreach (var judge in Judges.Select(n => assessments.Single(a => (string)a["name"]! == n)))
            {
                Assert.That(((string)judge["kind"]!, (string)judge["source_type"]!), Is.EqualTo(("Feedback", "LLM_JUDGE")), $"{id} {judge["name"]}");
                Assert.That((string)judge["value"]!, Is.AnyOf("yes", "no"), $"{id} {judge["name"]}");
                Assert.That((string?)judge["rationale"], Does.StartWith("The stand-in found"), $"{id} {judge["name"]}: the judge's rationale");
            }

            foreach (var code in CodeScorers.Select(n => assessments.Single(a => (string)a["name"]! == n)))
            {
                Assert.That(((string)code["kind"]!, (string)code["source_type"]!, (string?)code["error_code"]), Is.EqualTo(("Feedback", "CODE", (string?)null)), $"{id} {code["name"]}");
            }

            var expectation = assessments.Single(a => (string)a["name"]! == "expected_response");
            Assert.That(((string)expectation["kind"]!, (string)expectation["value"]!), Is.EqualTo(("Expectation", dataset.GetValueOrDefault(question))), id);
        });
        return question;
    }

    /// <summary>The run's aggregates are those of the assessments on the traces.</summary>
    private static void AssertAggregates(JsonNode run, List<JsonNode> traces)
    {
        var metrics = run["metrics"]!.AsObject();
        double Value(JsonNode a) => a["value"]!.GetValueKind() switch
        {
            System.Text.Json.JsonValueKind.String => (string)a["value"]! == "yes" ? 1 : 0,
            System.Text.Json.JsonValueKind.True => 1,
            System.Text.Json.JsonValueKind.False => 0,
            _ => (double)a["value"]!,
        };

        Assert.Multiple(() =>
        {
            foreach (var name in Judges.Concat(CodeScorers))
            {
                var values = traces.Select(t => Value(t["assessments"]!.AsArray().Single(a => (string)a!["name"]! == name)!)).ToList();
                Assert.That(metrics.ContainsKey(name + "/mean"), Is.True, name + "/mean on the run");
                Assert.That((double?)metrics[name + "/mean"], Is.EqualTo(values.Average()).Within(1e-9), name + "/mean is the mean over the traces' assessments");
            }

            Assert.That(metrics.Select(m => m.Key), Is.SupersetOf(new[] { "latency/p90", "latency/max", "token_usage/max" }));
        });
    }

    private static IEnumerable<string> Strings(JsonNode? node) => node switch
    {
        JsonObject o => o.SelectMany(p => Strings(p.Value)),
        JsonArray a => a.SelectMany(Strings),
        JsonValue v when v.GetValueKind() == System.Text.Json.JsonValueKind.String => [(string)v!],
        _ => [],
    };
}
