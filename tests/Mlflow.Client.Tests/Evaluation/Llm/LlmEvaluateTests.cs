using System.Text.Json.Nodes;
using Mlflow.Client.Evaluation;
using Mlflow.Client.Evaluation.Llm;
using Mlflow.Client.Artifacts;
using Mlflow.Client.FileStore;
using Mlflow.Client.Tests.Infrastructure;
using Mlflow.Client.Tests.Offline;
using Mlflow.Client.Tracing;
using NUnit.Framework;
using WireMock.RequestBuilders;
using WireMock.ResponseBuilders;
using WireMock.Util;

namespace Mlflow.Client.Tests.Evaluation.Llm;

/// <summary>
/// The evaluation loop against a (WireMock) MLflow 3 server: one trace per record (the judges score outside it), each
/// feedback and expectation as an assessment on it, the traces linked to the run, the aggregates in a log-batch; and on a
/// local store, the metrics and the per-record table instead of traces.
/// </summary>
[TestFixture]
public class LlmEvaluateTests
{
    private const string RunId = "0123456789abcdef0123456789abcdef";
    private const string TracesPath = "/api/2.0/mlflow-artifacts/artifacts/0/traces/";

    private OfflineFallbackTests.Dir _dir = null!;
    private FixtureServer _server = null!;
    private int _assessmentIds;

    [SetUp]
    public void SetUp()
    {
        _dir = new OfflineFallbackTests.Dir();
        Directory.CreateDirectory(_dir.Path);
        _server = FixtureServer.Start();
    }

    [TearDown]
    public void TearDown()
    {
        _server.Dispose();
        _dir.Dispose();
    }

    private static EvaluationDataset Capitals() => EvaluationDataset.FromRecords(
    [
        new EvaluationRecord { Inputs = new Dictionary<string, JsonNode?> { ["question"] = "Capital of France?" }, Expectations = new Dictionary<string, JsonNode?> { ["expected_response"] = "Paris" }, Tags = new Dictionary<string, string> { ["topic"] = "geo" } },
        new EvaluationRecord { Inputs = new Dictionary<string, JsonNode?> { ["question"] = "Capital of Italy?" }, Expectations = new Dictionary<string, JsonNode?> { ["expected_response"] = "Rome" } },
        new EvaluationRecord { Inputs = new Dictionary<string, JsonNode?> { ["question"] = "Capital of Spain?" }, Expectations = new Dictionary<string, JsonNode?> { ["expected_response"] = "Madrid" } },
    ], "capitals");

    /// <summary>The application under test: right for France and Italy, wrong for Spain.</summary>
    private static Task<Prediction> App(IReadOnlyDictionary<string, JsonNode?> inputs)
    {
        var question = inputs["question"]!.GetValue<string>();
        Prediction answer = question.Contains("France", StringComparison.Ordinal) ? "Paris" : question.Contains("Italy", StringComparison.Ordinal) ? "Rome" : "Barcelona";
        return Task.FromResult(answer with { RetrievedContext = ["Paris is the capital of France.", "Rome is the capital of Italy."] });
    }

    /// <summary>A judge that says yes when the answer (the text after "<<Answer>>") is Paris or Rome.</summary>
    private static ScriptedChatClient Judge() => new(messages =>
    {
        var user = messages[^1].Text;
        var answer = user[(user.IndexOf("<<Answer>>", StringComparison.Ordinal) + 11)..].Split('\n')[0];
        return answer is "Paris" or "Rome" ? "{\"rationale\": \"matches\", \"result\": \"yes\"}" : "{\"rationale\": \"does not match\", \"result\": \"no\"}";
    });

    private void ServeMlflow3()
    {
        var info = new JsonObject
        {
            ["run_id"] = RunId, ["run_uuid"] = RunId, ["experiment_id"] = "0", ["run_name"] = "eval", ["status"] = "RUNNING",
            ["start_time"] = 1, ["artifact_uri"] = "mlflow-artifacts:/0/" + RunId + "/artifacts", ["lifecycle_stage"] = "active",
        };
        var run = new JsonObject { ["run"] = new JsonObject { ["info"] = info, ["data"] = new JsonObject() } }.ToJsonString();
        Json("/api/2.0/mlflow/runs/create", "POST", run);
        Json("/api/2.0/mlflow/runs/get", "GET", run);
        Json("/api/2.0/mlflow/runs/update", "POST", new JsonObject { ["run_info"] = info.DeepClone() }.ToJsonString());
        Json("/api/2.0/mlflow/runs/log-batch", "POST", "{}");
        Json("/api/2.0/mlflow/runs/log-inputs", "POST", "{}");
        Json("/api/2.0/mlflow/traces/link-to-run", "POST", "{}");
        Json("/api/2.0/mlflow/experiments/get", "GET", new JsonObject { ["experiment"] = new JsonObject { ["experiment_id"] = "0", ["name"] = "Default", ["lifecycle_stage"] = "active" } }.ToJsonString());
        // StartTraceV3: the server answers the trace info with the artifact location it chose for traces.json.
        _server.Server.Given(Request.Create().WithPath("/api/3.0/mlflow/traces").UsingPost()).AtPriority(10).RespondWith(Response.Create().WithCallback(request =>
        {
            var trace = JsonNode.Parse(request.Body!)!["trace"]!;
            var id = trace["trace_info"]!["trace_id"]!.GetValue<string>();
            var tags = trace["trace_info"]!["tags"] as JsonObject ?? [];
            tags["mlflow.artifactLocation"] = "mlflow-artifacts:/0/traces/" + id + "/artifacts";
            trace["trace_info"]!["tags"] = tags.DeepClone();
            return new WireMock.ResponseMessage { StatusCode = 200, BodyData = new BodyData { DetectedBodyType = WireMock.Types.BodyType.String, BodyAsString = new JsonObject { ["trace"] = trace.DeepClone() }.ToJsonString() } };
        }));
        _server.Server.Given(Request.Create().WithPath(p => p.StartsWith("/api/3.0/mlflow/traces/tr-", StringComparison.Ordinal) && p.EndsWith("/assessments", StringComparison.Ordinal)).UsingPost())
            .AtPriority(10).RespondWith(Response.Create().WithCallback(request =>
            {
                var assessment = JsonNode.Parse(request.Body!)!["assessment"]!.DeepClone();
                assessment["assessment_id"] = "a-" + Interlocked.Increment(ref _assessmentIds);
                return new WireMock.ResponseMessage { StatusCode = 200, BodyData = new BodyData { DetectedBodyType = WireMock.Types.BodyType.String, BodyAsString = new JsonObject { ["assessment"] = assessment }.ToJsonString() } };
            }));
        _server.Server.Given(Request.Create().WithPath(p => p.StartsWith(TracesPath, StringComparison.Ordinal)).UsingPut())
            .AtPriority(10).RespondWith(Response.Create().WithStatusCode(200).WithBody("{}"));
    }

    private void Json(string path, string method, string body)
        => _server.Server.Given(Request.Create().WithPath(path).UsingMethod(method))
            .AtPriority(10).RespondWith(Response.Create().WithStatusCode(200).WithHeader("Content-Type", "application/json").WithBody(body));

    private List<JsonNode> Bodies(string method, Func<string, bool> path)
        => _server.Requests.Where(r => r.RequestMessage.Method == method && path(r.RequestMessage.Path)).Select(r => JsonNode.Parse(r.RequestMessage.Body!)!).ToList();

    [Test]
    public async Task Each_record_becomes_a_trace_of_the_run_with_its_assessments_and_the_run_gets_the_aggregates()
    {
        ServeMlflow3();
        var judge = Judge();
        var done = new List<int>();
        LlmEvaluationResult result;
        await using (var tracker = MlflowTracker.Create(OfflineFallbackTests.Options(_server.Url, Path.Combine(_dir.Path, "offline"), o => o.ExperimentName = null)))
        {
            await using var run = await tracker.StartRunAsync("eval");
            result = await run.EvaluateAsync(
                Capitals(),
                predict: App,
                scorers: [Scorers.ExactMatch(), Judges.Correctness(judge), Judges.RetrievalGroundedness(judge)],
                new LlmEvaluationOptions { MaxConcurrency = 2, Progress = new SyncProgress(done) });
        }

        // Traces: one per record, under the run, with the root span and the retriever span; the judges' chat calls are
        // not part of it (MLflow 3.11.1 scores outside the predict trace).
        var traces = Bodies("POST", p => p == "/api/3.0/mlflow/traces").Select(b => b["trace"]!["trace_info"]!).ToList();
        Assert.That(traces, Has.Count.EqualTo(3));
        Assert.That(traces.Select(t => t["trace_metadata"]!["mlflow.sourceRun"]!.GetValue<string>()), Is.All.EqualTo(RunId));
        Assert.That(traces.Select(t => t["tags"]!["mlflow.traceName"]!.GetValue<string>()), Is.All.EqualTo("predict"));
        Assert.That(traces.Count(t => t["tags"]!["topic"]?.GetValue<string>() == "geo"), Is.EqualTo(1), "the record's tags go onto its trace");
        var uploads = _server.Requests.Where(r => r.RequestMessage.Method == "PUT" && r.RequestMessage.Path.StartsWith(TracesPath, StringComparison.Ordinal)).ToList();
        Assert.That(uploads, Has.Count.EqualTo(3));
        var spans = TraceDataJson.Parse(uploads[0].RequestMessage.Body!);
        Assert.That(spans.Select(s => s.SpanType), Is.EquivalentTo(new[] { SpanType.Chain, SpanType.Retriever }));
        var root = spans.Single(s => s.ParentSpanId is null);
        Assert.That(spans.Where(s => s != root).Select(s => s.ParentSpanId), Is.All.EqualTo(root.SpanId));
        Assert.That(root.Inputs!["question"], Is.Not.Null);

        // Assessments: per trace, three feedbacks (on the root span, tied to the run) and the expectation.
        var assessments = Bodies("POST", p => p.EndsWith("/assessments", StringComparison.Ordinal)).Select(b => b["assessment"]!).ToList();
        Assert.That(assessments, Has.Count.EqualTo(12));
        Assert.That(assessments.Select(a => a["metadata"]!["mlflow.assessment.sourceRunId"]!.GetValue<string>()), Is.All.EqualTo(RunId));
        var correctness = assessments.Where(a => a["assessment_name"]!.GetValue<string>() == "correctness").ToList();
        Assert.That(correctness.Select(a => a["feedback"]!["value"]!.GetValue<string>()), Is.EquivalentTo(new[] { "yes", "yes", "no" }));
        Assert.That(correctness.Select(a => a["source"]!["source_type"]!.GetValue<string>()), Is.All.EqualTo("LLM_JUDGE"));
        Assert.That(correctness.Select(a => a["source"]!["source_id"]!.GetValue<string>()), Is.All.EqualTo("scripted:/judge-1"));
        Assert.That(assessments.Count(a => a["expectation"] is not null && a["assessment_name"]!.GetValue<string>() == "expected_response"), Is.EqualTo(3));
        var exact = assessments.Where(a => a["assessment_name"]!.GetValue<string>() == "exact_match").ToList();
        Assert.That(exact.Select(a => a["source"]!["source_type"]!.GetValue<string>()), Is.All.EqualTo("CODE"));

        // Linked to the run, the aggregates logged, the run marked as a GenAI evaluation with the dataset as input.
        var linked = Bodies("POST", p => p == "/api/2.0/mlflow/traces/link-to-run").Single();
        Assert.That(linked["run_id"]!.GetValue<string>(), Is.EqualTo(RunId));
        Assert.That(linked["trace_ids"]!.AsArray().Select(n => n!.GetValue<string>()), Is.EquivalentTo(result.Rows.Select(r => r.TraceId)));
        var batches = Bodies("POST", p => p == "/api/2.0/mlflow/runs/log-batch");
        var metrics = batches.SelectMany(b => b["metrics"]?.AsArray() ?? []).ToDictionary(m => m!["key"]!.GetValue<string>(), m => m!["value"]!.GetValue<double>());
        Assert.That(metrics["correctness/mean"], Is.EqualTo(2.0 / 3).Within(1e-12));
        Assert.That(metrics["exact_match/mean"], Is.EqualTo(2.0 / 3).Within(1e-12));
        Assert.That(metrics["retrieval_groundedness/mean"], Is.EqualTo(2.0 / 3).Within(1e-12));
        Assert.That(metrics.Keys, Has.Count.EqualTo(3), "the mean only, MLflow's default");
        var tags = batches.SelectMany(b => b["tags"]?.AsArray() ?? []).ToDictionary(t => t!["key"]!.GetValue<string>(), t => t!["value"]!.GetValue<string>());
        Assert.That(tags["mlflow.runType"], Is.EqualTo("genai_evaluate"));
        var input = Bodies("POST", p => p == "/api/2.0/mlflow/runs/log-inputs").Single()["datasets"]![0]!["dataset"]!;
        Assert.That(input["name"]!.GetValue<string>(), Is.EqualTo("capitals"));

        // The typed result.
        Assert.That(result.TracesLogged, Is.True);
        Assert.That(result.Rows.Select(r => r.Find("exact_match")!.NumericValue), Is.EqualTo(new double?[] { 1, 1, 0 }));
        Assert.That(result.Rows[2].Find("correctness")!.Rationale, Is.EqualTo("does not match"));
        Assert.That(done.Order(), Is.EqualTo(new[] { 1, 2, 3 }));
        Assert.That(judge.Calls, Has.Count.EqualTo(6));
        Assert.That(_server.Requests.Any(r => r.RequestMessage.Path.EndsWith("eval_results_table.json", StringComparison.Ordinal)), Is.False, "with traces, no table artifact unless asked");
    }

    [Test]
    public async Task On_a_local_store_the_evaluation_keeps_a_trace_per_record_with_its_assessments_and_logs_the_metrics()
    {
        var judge = ScriptedChatClient.Throwing(new InvalidOperationException("model unavailable"));
        string runId;
        LlmEvaluationResult result;
        await using (var tracker = MlflowTracker.Create(new MlflowTrackerOptions { TrackingUri = _dir.Path, ExperimentName = "llm" }))
        {
            await using var run = tracker.StartRun("eval");
            runId = run.RunId;
            result = run.Evaluate(
                Capitals(),
                inputs => inputs["question"]!.GetValue<string>().Contains("Spain", StringComparison.Ordinal) ? throw new TimeoutException("app timed out") : "Paris",
                [Scorers.ExactMatch(), Scorers.Latency(), Judges.Safety(judge), Scorers.TokenUsage()],
                new LlmEvaluationOptions { LogResultsTable = true });
        }

        // The local store keeps traces in MLflow 3's file layout: one per record, linked to the run, with its assessments.
        Assert.That(result.TracesLogged, Is.True);
        Assert.That(result.Rows.Select(r => r.TraceId), Is.All.Not.Null);
        using (var traces = new LocalFileStore(_dir.Path))
        {
            Assert.That(traces.ListRunTraceIds(runId), Is.EquivalentTo(result.Rows.Select(r => r.TraceId)));
            var first = await traces.GetTraceAsync(result.Rows[0].TraceId!, CancellationToken.None);
            Assert.That(first.Spans, Is.Not.Empty);
            Assert.That(first.Info.Assessments.Select(a => a.Name), Does.Contain("exact_match").And.Contain("safety"));
            // No span reported token usage: a feedback with neither value nor error stays in the result, not on the trace
            // (MLflow holds no such assessment; writing it used to end the evaluation with an exception).
            Assert.That(first.Info.Assessments.Select(a => a.Name), Does.Not.Contain("token_usage"));
            Assert.That(result.Rows[0].Find("token_usage"), Is.Not.Null);
        }

        Assert.That(result.Rows[2].Error, Does.Contain("TimeoutException: app timed out"));
        Assert.That(result.Rows[2].Outputs, Is.Null);
        Assert.That(result.Rows.Select(r => r.Find("safety")!.Error!.ErrorCode), Is.All.EqualTo("JUDGE_ERROR"), "a failing judge does not stop the evaluation");
        using var store = new LocalFileStore(_dir.Path);
        var stored = await store.GetRunAsync(runId, CancellationToken.None);
        var metrics = stored.Data.Metrics.ToDictionary(m => m.Key, m => m.Value);
        Assert.That(metrics["exact_match/mean"], Is.EqualTo(1.0 / 3).Within(1e-12), "Paris is right for France only");
        Assert.That(metrics.Keys, Is.SupersetOf(new[] { "latency/mean", "latency/p90", "latency/max" }));
        Assert.That(metrics.Keys.Any(k => k.StartsWith("safety/", StringComparison.Ordinal)), Is.False, "errors are left out of the aggregates");
        Assert.That(stored.Data.Tags.Single(t => t.Key == "mlflow.runType").Value, Is.EqualTo("genai_evaluate"));
        var table = TableJson.Read(await File.ReadAllTextAsync(Directory.GetFiles(_dir.Path, EvaluationResult.TableArtifactFile, SearchOption.AllDirectories).Single()));
        Assert.That(table.RowCount, Is.EqualTo(3));
        Assert.That(table.Columns, Does.Contain("exact_match/value").And.Contain("safety/value").And.Contain("error"));
    }

    [Test]
    public async Task Scorers_with_the_same_name_are_refused_before_anything_runs()
    {
        await using var tracker = MlflowTracker.Create(new MlflowTrackerOptions { TrackingUri = _dir.Path, ExperimentName = "llm" });
        await using var run = tracker.StartRun("eval");
        var called = false;

        Assert.That(() => run.EvaluateAsync(Capitals(), _ => { called = true; return Task.FromResult<Prediction>("x"); }, [Scorers.ExactMatch(), Scorers.ExactMatch()]),
            Throws.ArgumentException.With.Message.Contains("exact_match"));
        Assert.That(called, Is.False);
    }

    [Test]
    public void Aggregates_follow_the_scorers_aggregations_and_MLflows_names()
    {
        var rows = new[] { 0.1, 0.2, 0.3, 0.4, 1.0 }.Select((v, i) => new LlmEvaluationRow
        {
            Index = i,
            Record = new EvaluationRecord { Inputs = new Dictionary<string, JsonNode?> { ["q"] = i } },
            Feedback = [Feedback.FromCode("score", v), Feedback.FromCode("judge", i % 2 == 0 ? "yes" : "no")],
        }).ToList();
        var all = Scorers.Custom("score", _ => 0, ScoreAggregations.Mean | ScoreAggregations.Min | ScoreAggregations.Max | ScoreAggregations.Median | ScoreAggregations.Variance | ScoreAggregations.P90);

        var metrics = LlmEvaluator.Aggregate(rows, [all]);

        Assert.That(metrics["score/mean"], Is.EqualTo(0.4).Within(1e-12));
        Assert.That(metrics["score/min"], Is.EqualTo(0.1).Within(1e-12));
        Assert.That(metrics["score/max"], Is.EqualTo(1.0));
        Assert.That(metrics["score/median"], Is.EqualTo(0.3).Within(1e-12));
        Assert.That(metrics["score/variance"], Is.EqualTo(0.1).Within(1e-12), "numpy's var: (0.09+0.04+0.01+0+0.36)/5");
        Assert.That(metrics["score/p90"], Is.EqualTo(0.76).Within(1e-12), "numpy's percentile: 0.4 + 0.6 * 0.6");
        Assert.That(metrics["judge/mean"], Is.EqualTo(0.6).Within(1e-12), "yes/no counted 1/0; a scorer not given keeps the mean only");
        Assert.That(metrics.Keys.Count(k => k.StartsWith("judge/", StringComparison.Ordinal)), Is.EqualTo(1));
    }

    private sealed class SyncProgress(List<int> seen) : IProgress<int>
    {
        public void Report(int value)
        {
            lock (seen)
            {
                seen.Add(value);
            }
        }
    }
}
