using System.Text.Json.Nodes;
using Microsoft.Extensions.AI;
using Mlflow.Client.Evaluation.Llm;
using Mlflow.Client.FileStore;
using Mlflow.Client.Tests.Offline;
using Mlflow.Client.Tests.Tracing.Capture;
using Mlflow.Client.Tracing;
using NUnit.Framework;

namespace Mlflow.Client.Tests.Evaluation.Llm;

/// <summary>
/// Evaluate traces the application's own spans, as <c>mlflow.genai.evaluate</c> traces <c>predict_fn</c>: a manual span
/// and an <c>IChatClient</c> with <c>UseOpenTelemetry()</c> called inside <c>predict</c> nest under the record's root,
/// with their types, messages and token usage, records evaluated at once never mix, and the judges (instrumented too)
/// stay out of the record's trace. Read back from the local store, which keeps MLflow 3.11.1's layout.
/// </summary>
[TestFixture]
[CancelAfter(120_000)]
public class EvaluateSpanCaptureTests
{
    private const int Records = 8;
    private const int Concurrency = 4;

    private OfflineFallbackTests.Dir _dir = null!;

    [SetUp]
    public void SetUp() => _dir = new OfflineFallbackTests.Dir();

    [TearDown]
    public void TearDown() => _dir.Dispose();

    private static EvaluationDataset Questions() => EvaluationDataset.FromRecords(
        Enumerable.Range(0, Records).Select(i => new EvaluationRecord
        {
            Inputs = new Dictionary<string, JsonNode?> { ["question"] = $"question {i}" },
            Expectations = new Dictionary<string, JsonNode?> { ["expected_response"] = $"answer {i}" },
        }).ToList(),
        "numbered");

    /// <summary>The application: a manual CHAIN span around an instrumented chat call that answers "answer N" for "question N".</summary>
    private static Func<IReadOnlyDictionary<string, JsonNode?>, CancellationToken, Task<Prediction>> App(IChatClient chat) => async (inputs, ct) =>
    {
        var question = inputs["question"]!.GetValue<string>();
        using var span = MlflowSpan.Start("answer", SpanType.Chain).SetInputs(new JsonObject { ["question"] = question });
        var response = await chat.GetResponseAsync([new ChatMessage(ChatRole.User, question)], cancellationToken: ct);
        span.SetOutputs(response.Text);
        return response.Text;
    };

    private static List<TraceSpan> Children(MlflowTrace trace) => trace.Spans.Where(s => s.ParentSpanId is not null).ToList();

    [Test]
    public async Task The_applications_spans_nest_in_each_records_trace_without_mixing_and_the_judges_stay_out()
    {
        // The first four chat calls wait for each other: four records are inside predict at once, each under its own root.
        var app = new RendezvousChatClient(Concurrency, q => q.Replace("question", "answer", StringComparison.Ordinal));
        using var chat = app.AsBuilder().UseOpenTelemetry(configure: c => c.EnableSensitiveData = true).Build();
        var judge = ScriptedChatClient.Always("{\"rationale\": \"ok\", \"result\": \"yes\"}");
        using var instrumentedJudge = judge.AsBuilder().UseOpenTelemetry(configure: c => c.EnableSensitiveData = true).Build();
        string runId;
        LlmEvaluationResult result;
        await using (var tracker = MlflowTracker.Create(new MlflowTrackerOptions { TrackingUri = _dir.Path, ExperimentName = "capture" }))
        {
            await using var run = tracker.StartRun("eval");
            runId = run.RunId;
            result = await run.EvaluateAsync(Questions(), App(chat), [Scorers.ExactMatch(), Scorers.TokenUsage(), Judges.Correctness(instrumentedJudge)], new LlmEvaluationOptions { MaxConcurrency = Concurrency });
        }

        Assert.That(app.MaxInFlight, Is.EqualTo(Concurrency), "records were inside predict at the same time");
        Assert.That(judge.Calls, Has.Count.EqualTo(Records));
        using var store = new LocalFileStore(_dir.Path);
        Assert.That(store.ListRunTraceIds(runId), Is.EquivalentTo(result.Rows.Select(r => r.TraceId)));
        foreach (var row in result.Rows)
        {
            var trace = await store.GetTraceAsync(row.TraceId!, CancellationToken.None);
            var root = trace.Spans.Single(s => s.ParentSpanId is null);
            Assert.That(root.Name, Is.EqualTo("predict"));
            Assert.That(root.SpanType, Is.EqualTo(SpanType.Chain));
            Assert.That(trace.Spans.Select(s => s.TraceId), Is.All.EqualTo(row.TraceId), "one trace id, the root activity's");

            // Root -> manual "answer" span -> the chat client's CHAT_MODEL span; nothing of the judge.
            var children = Children(trace);
            Assert.That(children.Select(s => s.SpanType), Is.EquivalentTo(new[] { SpanType.Chain, SpanType.ChatModel }), $"record {row.Index}");
            var answer = children.Single(s => s.Name == "answer");
            var chatSpan = children.Single(s => s.SpanType == SpanType.ChatModel);
            Assert.That(answer.ParentSpanId, Is.EqualTo(root.SpanId));
            Assert.That(chatSpan.ParentSpanId, Is.EqualTo(answer.SpanId), "the library's span nests under the manual one");
            Assert.That(answer.Inputs!["question"]!.GetValue<string>(), Is.EqualTo($"question {row.Index}"), "no span of another record");
            Assert.That(chatSpan.Inputs!.ToJsonString(), Does.Contain($"question {row.Index}"));
            Assert.That(chatSpan.Outputs!.ToJsonString(), Does.Contain($"answer {row.Index}"));
            Assert.That(chatSpan.Attributes["mlflow.chat.tokenUsage"]!.ToJsonString(), Is.EqualTo("""{"input_tokens":2,"output_tokens":2,"total_tokens":4}"""));
            Assert.That(trace.Spans.Any(s => s.Inputs?.ToJsonString().Contains("<<Answer>>", StringComparison.Ordinal) == true), Is.False, "the judge's call is not in the record's trace");

            // The trace's token usage is the application's (MLflow's aggregate), and the token scorer read the captured span.
            Assert.That(trace.Info.Metadata["mlflow.trace.tokenUsage"], Is.EqualTo("{\"input_tokens\": 2, \"output_tokens\": 2, \"total_tokens\": 4}"));
            Assert.That(trace.Info.Metadata["mlflow.sourceRun"], Is.EqualTo(runId));
            Assert.That(row.Find("token_usage")!.NumericValue, Is.EqualTo(4));
            Assert.That(row.Find("exact_match")!.NumericValue, Is.EqualTo(1), "each record got its own answer");
            Assert.That(trace.Info.Assessments.Select(a => a.Name), Does.Contain("correctness").And.Contain("expected_response"));
            Assert.That(trace.Info.Assessments.Where(a => a.Name == "correctness").Select(a => a.SpanId), Is.All.EqualTo(root.SpanId));
        }
    }

    [Test]
    public async Task A_tracer_listening_meanwhile_leaves_the_record_traces_to_the_evaluation()
    {
        using var server = TraceServer.Start();
        using var client = server.CreateClient();
        using var chat = new RendezvousChatClient(1, q => q + "!").AsBuilder().UseOpenTelemetry().Build();
        LlmEvaluationResult result;
        await using (var tracer = new MlflowTracer(client, "7"))
        {
            await using (var tracker = MlflowTracker.Create(new MlflowTrackerOptions { TrackingUri = _dir.Path, ExperimentName = "capture" }))
            {
                await using var run = tracker.StartRun("eval");
                result = await run.EvaluateAsync(Questions(), App(chat), [Scorers.ExactMatch()], new LlmEvaluationOptions { MaxConcurrency = 2 });
            }

            // Outside an evaluation the tracer still gets the same chat client's spans.
            await chat.GetResponseAsync("after the evaluation");
            Assert.That(await tracer.FlushAsync(TimeSpan.FromSeconds(20)), Is.True);
            Assert.That(tracer.Pipeline.Logged, Is.EqualTo(1));
        }

        Assert.That(server.TraceInfos.Keys.Intersect(result.Rows.Select(r => r.TraceId!)), Is.Empty, "no record's trace logged twice");
        Assert.That(result.Rows.Select(r => r.TraceId), Is.All.Not.Null);
    }

    [Test]
    public async Task A_failing_prediction_keeps_the_spans_it_made_under_an_error_root()
    {
        using var chat = new RendezvousChatClient(1, q => q).AsBuilder().UseOpenTelemetry().Build();
        LlmEvaluationResult result;
        await using (var tracker = MlflowTracker.Create(new MlflowTrackerOptions { TrackingUri = _dir.Path, ExperimentName = "capture" }))
        {
            await using var run = tracker.StartRun("eval");
            result = await run.EvaluateAsync(
                EvaluationDataset.FromRecords([new EvaluationRecord { Inputs = new Dictionary<string, JsonNode?> { ["question"] = "q" } }]),
                async (inputs, ct) =>
                {
                    using (MlflowSpan.Start("retrieve", SpanType.Retriever))
                    {
                        await chat.GetResponseAsync("q", cancellationToken: ct);
                    }

                    throw new InvalidOperationException("app broke");
                },
                [Scorers.ExactMatch()]);
        }

        using var store = new LocalFileStore(_dir.Path);
        var trace = await store.GetTraceAsync(result.Rows[0].TraceId!, CancellationToken.None);
        Assert.That(trace.Info.State, Is.EqualTo(TraceState.Error));
        Assert.That(trace.Spans.Single(s => s.ParentSpanId is null).Status, Is.EqualTo(TraceSpanStatus.Error));
        Assert.That(Children(trace).Select(s => s.SpanType), Is.EquivalentTo(new[] { SpanType.Retriever, SpanType.ChatModel }));
        Assert.That(System.Diagnostics.Activity.Current, Is.Null, "the caller's current activity is as it was");
    }

    [Test]
    public async Task With_TraceScorers_each_scorer_call_is_a_trace_of_its_own_tagged_and_named_in_the_feedback()
    {
        using var chat = new RendezvousChatClient(1, q => q.Replace("question", "answer", StringComparison.Ordinal)).AsBuilder().UseOpenTelemetry().Build();
        var judge = ScriptedChatClient.Always("{\"rationale\": \"ok\", \"result\": \"yes\"}");
        string runId;
        LlmEvaluationResult result;
        await using (var tracker = MlflowTracker.Create(new MlflowTrackerOptions { TrackingUri = _dir.Path, ExperimentName = "capture" }))
        {
            await using var run = tracker.StartRun("eval");
            runId = run.RunId;
            result = await run.EvaluateAsync(
                EvaluationDataset.FromRecords(Questions().Records.Take(2).ToList()),
                App(chat),
                [Scorers.ExactMatch(), Judges.Correctness(judge)],
                new LlmEvaluationOptions { TraceScorers = true, MaxConcurrency = 2 });
        }

        using var store = new LocalFileStore(_dir.Path);
        Assert.That(store.ListRunTraceIds(runId), Has.Count.EqualTo(2 + (2 * 2)), "a trace per record and one per scorer call, all in the run");
        foreach (var row in result.Rows)
        {
            var record = await store.GetTraceAsync(row.TraceId!, CancellationToken.None);
            Assert.That(record.Spans.Select(s => s.SpanType), Is.EquivalentTo(new[] { SpanType.Chain, SpanType.Chain, SpanType.ChatModel }), "the record's trace holds the application only");
            foreach (var scorer in new[] { "exact_match", "correctness" })
            {
                var scorerTraceId = row.Find(scorer)!.Metadata["mlflow.assessment.scorerTraceId"];
                var scorerTrace = await store.GetTraceAsync(scorerTraceId, CancellationToken.None);
                Assert.That(scorerTrace.Info.Tags["mlflow.trace.sourceScorer"], Is.EqualTo(scorer));
                var root = scorerTrace.Spans.Single(s => s.ParentSpanId is null);
                Assert.That((root.Name, root.SpanType), Is.EqualTo((scorer, SpanType.Evaluator)));
                Assert.That(root.Inputs!["inputs"]!["question"]!.GetValue<string>(), Is.EqualTo($"question {row.Index}"));
                var judged = scorerTrace.Spans.Where(s => s.ParentSpanId is not null).ToList();
                Assert.That(judged.Select(s => (s.SpanType, s.ParentSpanId)), Is.EqualTo(scorer == "correctness" ? new[] { (SpanType.ChatModel, (string?)root.SpanId) } : []));
                Assert.That(record.Info.Assessments.Single(a => a.Name == scorer).Metadata["mlflow.assessment.scorerTraceId"], Is.EqualTo(scorerTraceId));
            }
        }
    }

    [Test]
    public void The_current_activity_of_the_caller_is_not_the_records_parent_and_is_current_again_after()
    {
        using var recorder = new ActivityRecorder("caller");
        using var source = new System.Diagnostics.ActivitySource("caller");
        using var outer = source.StartActivity("outer")!;
        using var capture = new RecordSpanCapture([MlflowTracingOptions.MicrosoftExtensionsAISource], Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance);

        var recording = capture.Start("predict");
        Assert.That(System.Diagnostics.Activity.Current, Is.SameAs(recording.Root));
        Assert.That(recording.Root.ParentSpanId, Is.EqualTo(default(System.Diagnostics.ActivitySpanId)), "a record's trace is a new trace");
        Assert.That(ClaimedTraces.IsClaimed(recording.Root.TraceId), Is.True);
        recording.Stop();

        Assert.That(System.Diagnostics.Activity.Current, Is.SameAs(outer));
        capture.Dispose();
        Assert.That(ClaimedTraces.IsClaimed(recording.Root.TraceId), Is.False);
    }

    [Test]
    public void A_stopped_record_is_let_go_so_the_capture_does_not_grow_with_the_records()
    {
        using var capture = new RecordSpanCapture([], Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance);
        using var source = new System.Diagnostics.ActivitySource(MlflowTracer.ActivitySourceName);
        var traceIds = new List<System.Diagnostics.ActivityTraceId>();
        for (var i = 0; i < 20; i++)
        {
            var recording = capture.Start("predict");
            using (source.StartActivity("step " + i))
            {
            }

            Assert.That(recording.Stop().Select(s => s.Name), Is.EqualTo(new[] { "step " + i }));
            traceIds.Add(recording.Root.TraceId);
        }

        Assert.That(capture.RecordingCount, Is.Zero, "each record's root, spans and messages are released when it stops");
        Assert.That(traceIds.All(ClaimedTraces.IsClaimed), Is.True, "a record's trace stays claimed until the capture ends");
        capture.Dispose();
        Assert.That(traceIds.Any(ClaimedTraces.IsClaimed), Is.False);
    }

    /// <summary>
    /// A chat client whose first <c>n</c> calls wait until all <c>n</c> have started (bounded: 20 s), so that many
    /// records are inside predict at once; it answers with <c>answer(question)</c> and two tokens each way.
    /// </summary>
    private sealed class RendezvousChatClient(int n, Func<string, string> answer) : IChatClient
    {
        private readonly TaskCompletionSource _all = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private int _started;
        private int _inFlight;
        private int _maxInFlight;

        public int MaxInFlight => Volatile.Read(ref _maxInFlight);

        public async Task<ChatResponse> GetResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default)
        {
            var question = messages.Last().Text;
            var now = Interlocked.Increment(ref _inFlight);
            for (var seen = Volatile.Read(ref _maxInFlight); now > seen && Interlocked.CompareExchange(ref _maxInFlight, now, seen) != seen; seen = Volatile.Read(ref _maxInFlight))
            {
            }

            try
            {
                if (Interlocked.Increment(ref _started) <= n)
                {
                    if (Volatile.Read(ref _started) >= n)
                    {
                        _all.TrySetResult();
                    }

                    await _all.Task.WaitAsync(TimeSpan.FromSeconds(20), cancellationToken);
                }

                await Task.Yield();
                return new ChatResponse(new ChatMessage(ChatRole.Assistant, answer(question)))
                {
                    ModelId = "app-1",
                    Usage = new UsageDetails { InputTokenCount = 2, OutputTokenCount = 2 },
                };
            }
            finally
            {
                Interlocked.Decrement(ref _inFlight);
            }
        }

        public IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default)
            => throw new NotSupportedException();

        public object? GetService(Type serviceType, object? serviceKey = null)
            => serviceType == typeof(ChatClientMetadata) ? new ChatClientMetadata("app", null, "app-1") : null;

        public void Dispose()
        {
        }
    }
}
