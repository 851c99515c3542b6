using System.Text.Json.Nodes;
using Mlflow.Client.Store;
using Mlflow.Client.Tracing;
using NUnit.Framework;

namespace Mlflow.Client.Tests.RealServer;

/// <summary>
/// Traces and assessments end to end against a real MLflow 3 server (<c>MLFLOW_TEST_TRACKING_URI</c>; ignored
/// otherwise and on a server without the v3 trace API, such as 2.12.2). Verified on 3.11.1 with the sqlite and the
/// file backend (gunicorn, no OTLP endpoint: the spans go to the artifact location as <c>traces.json</c>).
/// The experiment is named <c>dotnet-trace-…</c>, for a read-back with MLflow's own Python client.
/// </summary>
[TestFixture]
[Category("RealServer")]
[NonParallelizable]
public class TraceRealServerTests : RealServerClientTest
{
    protected override string PrefixStem => "dotnet-trace-";

    private Task<MlflowServerInfo> RequireTraceApiAsync() => RequireMlflow3Async("Traces need");

    private static List<TraceSpan> QuestionAnswerSpans(string question, long startNs)
    {
        var root = TraceIds.NewSpanId();
        return
        [
            new TraceSpan
            {
                SpanId = root, Name = "answer", SpanType = SpanType.Agent, StartTimeUnixNano = startNs, EndTimeUnixNano = startNs + 250_000_000,
                Status = TraceSpanStatus.Ok, Inputs = new JsonObject { ["question"] = question }, Outputs = "Paris",
            },
            new TraceSpan
            {
                SpanId = TraceIds.NewSpanId(), ParentSpanId = root, Name = "retrieve", SpanType = SpanType.Retriever,
                StartTimeUnixNano = startNs + 10_000_000, EndTimeUnixNano = startNs + 60_000_000, Status = TraceSpanStatus.Ok,
                Inputs = new JsonObject { ["query"] = question },
                Outputs = new JsonArray(new JsonObject { ["page_content"] = "Paris est la capitale de la France.", ["metadata"] = new JsonObject { ["doc_uri"] = "doc-1" } }),
            },
            new TraceSpan
            {
                SpanId = TraceIds.NewSpanId(), ParentSpanId = root, Name = "chat", SpanType = SpanType.ChatModel,
                StartTimeUnixNano = startNs + 70_000_000, EndTimeUnixNano = startNs + 240_000_000, Status = TraceSpanStatus.Ok,
                Inputs = new JsonObject { ["messages"] = new JsonArray(new JsonObject { ["role"] = "user", ["content"] = question }) },
                Outputs = new JsonObject { ["choices"] = new JsonArray(new JsonObject { ["message"] = new JsonObject { ["role"] = "assistant", ["content"] = "Paris" } }) },
                Attributes = new Dictionary<string, JsonNode?> { ["mlflow.llm.model"] = "scripted-model" },
            },
        ];
    }

    [Test]
    public async Task Trace_LoggedThroughTheStore_ReadsBackWithSpansSearchTagsAndAssessments()
    {
        var server = await RequireTraceApiAsync();
        var experimentId = await Client.CreateExperimentAsync(Prefix);
        var run = await Client.CreateRunAsync(experimentId, "evaluation");
        var runId = run.Info.RunId;
        var traceId = TraceIds.NewTraceId();
        var question = "Quelle est la capitale de la France ?";
        var spans = QuestionAnswerSpans(question, DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() * 1_000_000);
        using ITrackingStore store = new RestTrackingStore(Client, ownsClient: false);

        var logged = await store.LogTraceAsync(
            new TraceInfo { TraceId = traceId, ExperimentId = experimentId, Metadata = new Dictionary<string, string> { ["mlflow.sourceRun"] = runId } },
            spans,
            CancellationToken.None);
        TestContext.Progress.WriteLine($"trace {traceId} in experiment {experimentId} ({Prefix}), run {runId}, store {server.StoreType}");

        Assert.That(logged.ArtifactLocation, Does.Contain($"/traces/{traceId}/artifacts"));
        Assert.That(logged.State, Is.EqualTo(TraceState.Ok));
        Assert.That(logged.ExecutionDurationMs, Is.EqualTo(250));
        Assert.That(logged.RequestPreview, Is.EqualTo(TraceDataJson.Dump(spans[0].Inputs)));

        var read = await store.GetTraceAsync(traceId, CancellationToken.None);
        Assert.That(read.Spans.Select(s => (s.Name, s.SpanType, s.SpanId, s.ParentSpanId)), Is.EqualTo(spans.Select(s => (s.Name, s.SpanType, s.SpanId, s.ParentSpanId))));
        for (var i = 0; i < spans.Count; i++)
        {
            Assert.That(JsonNode.DeepEquals(read.Spans[i].Inputs, spans[i].Inputs), Is.True, spans[i].Name + " inputs");
            Assert.That(JsonNode.DeepEquals(read.Spans[i].Outputs, spans[i].Outputs), Is.True, spans[i].Name + " outputs");
            Assert.That(read.Spans[i].StartTimeUnixNano, Is.EqualTo(spans[i].StartTimeUnixNano));
            Assert.That(read.Spans[i].TraceId, Is.EqualTo(traceId));
        }

        Assert.That(read.Spans[2].Attributes["mlflow.llm.model"]!.GetValue<string>(), Is.EqualTo("scripted-model"));
        Assert.That(read.Info.SourceRunId, Is.EqualTo(runId));

        var found = new List<TraceInfo>();
        await foreach (var t in Client.SearchAllTracesAsync([experimentId], new TraceSearchOptions { MaxResults = 5 }))
        {
            found.Add(t);
        }

        Assert.That(found.Select(t => t.TraceId), Is.EqualTo(new[] { traceId }));

        await Client.SetTraceTagAsync(traceId, "reviewed", "yes");
        Assert.That((await Client.GetTraceInfoAsync(traceId)).Tags["reviewed"], Is.EqualTo("yes"));
        await Client.DeleteTraceTagAsync(traceId, "reviewed");
        Assert.That((await Client.GetTraceInfoAsync(traceId)).Tags.ContainsKey("reviewed"), Is.False);

        var judged = await store.CreateAssessmentAsync(
            Assessment.CreateFeedback(traceId, "correctness", "yes", AssessmentSource.LlmJudge("openai:/gpt-4o-mini"), rationale: "The answer names Paris.", runId: runId),
            CancellationToken.None);
        var relevance = await Client.CreateAssessmentAsync(Assessment.CreateFeedback(traceId, "relevance", 0.75, AssessmentSource.Code("relevance_scorer"), runId: runId, spanId: spans[1].SpanId));
        var facts = await Client.CreateAssessmentAsync(Assessment.CreateExpectation(traceId, "expected_facts", new JsonArray("Paris", "France")));
        Assert.That(judged.AssessmentId, Does.Match("^a-[0-9a-f]{32}$"));
        Assert.That(relevance.SpanId, Is.EqualTo(spans[1].SpanId));

        var updated = await Client.UpdateAssessmentAsync(traceId, judged.AssessmentId!, new AssessmentUpdate { Rationale = "Paris, as expected." });
        Assert.That(updated.Rationale, Is.EqualTo("Paris, as expected."));
        Assert.That(updated.Feedback!.Value!.GetValue<string>(), Is.EqualTo("yes"));

        var withAssessments = await Client.GetTraceInfoAsync(traceId);
        Assert.That(withAssessments.Assessments.Select(a => a.Name), Is.EquivalentTo(new[] { "correctness", "relevance", "expected_facts" }));
        var readFacts = withAssessments.Assessments.Single(a => a.AssessmentId == facts.AssessmentId);
        Assert.That(JsonNode.DeepEquals(readFacts.Expectation!.Value, new JsonArray("Paris", "France")), Is.True);
        Assert.That(withAssessments.Assessments.Single(a => a.Name == "correctness").RunId, Is.EqualTo(runId));
        var got = await Client.GetAssessmentAsync(traceId, relevance.AssessmentId!);
        Assert.That(got.Feedback!.Value!.GetValue<double>(), Is.EqualTo(0.75));

        if (server.IsFileStore)
        {
            var refused = Assert.ThrowsAsync<MlflowException>(() => Client.LinkTracesToRunAsync(runId, [traceId]));
            Assert.That(refused!.ErrorCode, Is.EqualTo(MlflowErrorCode.InvalidParameterValue), "3.11.1's file store does not link traces to runs");
        }
        else
        {
            await Client.LinkTracesToRunAsync(runId, [traceId]);
        }
    }

    [Test]
    public async Task Assessment_Deleted_AndTrace_Deleted_AreGone()
    {
        await RequireTraceApiAsync();
        var experimentId = await Client.CreateExperimentAsync(Prefix);
        var traceId = TraceIds.NewTraceId();
        await Client.LogTraceAsync(new TraceInfo { TraceId = traceId, ExperimentId = experimentId }, QuestionAnswerSpans("q", DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() * 1_000_000));
        var feedback = await Client.CreateAssessmentAsync(Assessment.CreateFeedback(traceId, "safety", true, AssessmentSource.Human("reviewer@example.com")));

        await Client.DeleteAssessmentAsync(traceId, feedback.AssessmentId!);
        var gone = Assert.ThrowsAsync<MlflowException>(() => Client.GetAssessmentAsync(traceId, feedback.AssessmentId!));
        Assert.That(gone!.ErrorCode, Is.EqualTo(MlflowErrorCode.ResourceDoesNotExist));

        Assert.That(await Client.DeleteTracesAsync(experimentId, [traceId]), Is.EqualTo(1));
        var missing = Assert.ThrowsAsync<MlflowException>(() => Client.GetTraceInfoAsync(traceId));
        Assert.That(missing!.ErrorCode, Is.EqualTo(MlflowErrorCode.ResourceDoesNotExist));
    }
}
