using System.Text;
using System.Text.Json.Nodes;
using Mlflow.Client.FileStore;
using Mlflow.Client.Sync;
using Mlflow.Client.Tests.FileStore;
using Mlflow.Client.Tracing;
using NUnit.Framework;

namespace Mlflow.Client.Tests.Sync;

/// <summary>
/// A local run's MLflow 3 traces and their assessments pushed by sync to a stateful fake MLflow 3 server (on
/// 127.0.0.1): in order, linked to the server run, each exactly once when the sync is repeated, loses answers, loses
/// its journal or is cancelled; and skipped with one message (the run still pushed) by a 2.x server.
/// </summary>
[TestFixture]
[Parallelizable(ParallelScope.Children)]
[CancelAfter(120_000)]
internal sealed class SyncTraceTests
{
    private const string StartTrace = "/api/3.0/mlflow/traces";
    private static readonly CancellationToken None = CancellationToken.None;

    private sealed class Ctx : IDisposable
    {
        private readonly Offline.OfflineFallbackTests.Dir _dir = new();

        public string Root => Path.Combine(_dir.Path, "mlruns");

        public string RunId { get; set; } = "";

        public string TraceId { get; set; } = "";

        public List<Assessment> Assessments { get; set; } = [];

        public void Dispose() => _dir.Dispose();
    }

    private static SyncOptions Options(Ctx c, FakeMlflowServer server, bool dryRun = false) => new()
    {
        WrapHandler = inner => new LostAnswerHandler(inner),
        From = c.Root,
        To = server.Url,
        DryRun = dryRun,
        Client = new MlflowClientOptions
        {
            RequestTimeout = TimeSpan.FromSeconds(10),
            Retry = { MaxRetries = 2, BackoffFactor = TimeSpan.FromMilliseconds(2), BackoffJitter = TimeSpan.Zero },
        },
    };

    /// <summary>A finished local run with one trace logged under it and the nine assessments of the store tests.</summary>
    private static async Task<Ctx> BuildAsync()
    {
        var c = new Ctx();
        using var store = new LocalFileStore(c.Root);
        var experimentId = await store.CreateExperimentAsync("traces-sync", null, null, None);
        var run = await store.CreateRunAsync(experimentId, "evaluation", 1_765_000_000_000, null, "me", None);
        c.RunId = run.Info.RunId;
        var trace = await store.LogTraceAsync(TraceFileStoreTests.SampleTrace(experimentId, c.RunId), TraceFileStoreTests.SampleSpans(), None);
        c.TraceId = trace.TraceId;
        c.Assessments = await TraceFileStoreTests.LogSampleAssessmentsAsync(store, c.TraceId, c.RunId);
        await store.UpdateRunAsync(c.RunId, RunStatus.Finished, 1_765_000_009_000, null, None);
        return c;
    }

    private static FakeMlflowServer Mlflow3(bool deduplicating = false) => new(deduplicating) { Version = "3.11.1" };

    private static string Assessments(Ctx c) => StartTrace + "/" + c.TraceId + "/assessments";

    [Test]
    public async Task Traces_and_assessments_follow_the_artifacts_once_linked_to_the_pushed_run_and_before_its_status()
    {
        using var c = await BuildAsync();
        using var server = Mlflow3();

        var summary = await MlflowSync.SyncAsync(Options(c, server));

        Assert.That(summary.Complete, Is.True, string.Join(" | ", summary.Errors));
        Assert.That((summary.TracesSent, summary.AssessmentsSent, summary.TracesSkipped), Is.EqualTo((1, 9, 0)));
        var serverRun = server.SingleRun();
        var trace = server.Traces.Single().Value;
        Assert.That((string)trace["trace_id"]!, Is.EqualTo(c.TraceId));
        Assert.That((string)trace["trace_location"]!["mlflow_experiment"]!["experiment_id"]!, Is.EqualTo(serverRun.ExperimentId));
        Assert.That((string)trace["trace_metadata"]!["mlflow.sourceRun"]!, Is.EqualTo(serverRun.RunId), "the trace points at the pushed run, not the local one");
        Assert.That((string)trace["tags"]!["mlflow.artifactLocation"]!, Does.StartWith("mlflow-artifacts:/"), "the server's own location, not the local folder");
        Assert.That((string)trace["tags"]!["mlflow.traceName"]!, Is.EqualTo("answer"));
        using (var store = new LocalFileStore(c.Root))
        {
            var local = await store.GetTraceAsync(c.TraceId, None);
            Assert.That(Encoding.UTF8.GetString(server.Artifacts[FakeMlflowServer.TraceDataKey(c.TraceId)]), Is.EqualTo(TraceDataJson.Serialize(c.TraceId, local.Spans)));
        }

        var held = server.Assessments[c.TraceId];
        Assert.That(held.Select(a => (string)a["metadata"]![RunSynchronizer.SourceAssessmentIdMetadata]!), Is.EquivalentTo(c.Assessments.Select(a => a.AssessmentId)));
        var original = held.Single(a => (string)a["metadata"]![RunSynchronizer.SourceAssessmentIdMetadata]! == c.Assessments[0].AssessmentId);
        Assert.That((bool)original["valid"]!, Is.False, "the override was re-pointed to the server's id of the original");
        Assert.That(held.Single(a => (string?)a["overrides"] == (string)original["assessment_id"]!)["rationale"]!.GetValue<string>(), Is.EqualTo("Overridden."));
        Assert.That(held.Single(a => a["metadata"]!["mlflow.assessment.sourceRunId"] is not null)["metadata"]!["mlflow.assessment.sourceRunId"]!.GetValue<string>(), Is.EqualTo(serverRun.RunId));
        Assert.That(held.Single(a => (string)a["assessment_name"]! == "details")["feedback"]!["value"]!.ToJsonString(), Is.EqualTo("""{"docs":["doc1",null],"hits":2}"""));

        var order = server.Requests.Where(r => r.Contains("traces", StringComparison.Ordinal) || r.EndsWith("runs/update", StringComparison.Ordinal) || r.EndsWith("artifacts", StringComparison.Ordinal)).ToList();
        Assert.That(order, Is.EqualTo(new[] { "POST " + StartTrace, "PUT artifacts" }.Concat(Enumerable.Repeat("POST " + Assessments(c), 9)).Append("POST runs/update")));

        var writes = server.Writes;
        var again = await MlflowSync.SyncAsync(Options(c, server));
        Assert.That((again.RunsUpToDate, again.TracesSent, again.AssessmentsSent), Is.EqualTo((1, 0, 0)));
        Assert.That(server.Writes, Is.EqualTo(writes), "a repeated sync sends nothing");
        Assert.That(server.Requests.Count(r => r.Contains("/traces", StringComparison.Ordinal)), Is.EqualTo(10), "nor reads traces");
    }

    [Test]
    public async Task An_override_the_local_store_lists_before_its_original_is_sent_after_it_and_points_at_the_servers_original()
    {
        // Stamped a millisecond before the original (another writer's clock; the same millisecond orders by random id):
        // the local store lists the override first.
        using var c = new Ctx();
        string originalId, overrideId;
        using (var store = new LocalFileStore(c.Root))
        {
            var experimentId = await store.CreateExperimentAsync("override-order", null, null, None);
            c.RunId = (await store.CreateRunAsync(experimentId, "evaluation", 1_765_000_000_000, null, "me", None)).Info.RunId;
            c.TraceId = (await store.LogTraceAsync(TraceFileStoreTests.SampleTrace(experimentId, c.RunId), TraceFileStoreTests.SampleSpans(), None)).TraceId;
            var judge = AssessmentSource.LlmJudge("openai:/gpt-4o-mini");
            originalId = (await store.CreateAssessmentAsync(Assessment.CreateFeedback(c.TraceId, "correctness", "no", judge, "First opinion.") with { CreateTimeMs = 1_765_000_001_000 }, None)).AssessmentId!;
            overrideId = (await store.CreateAssessmentAsync(Assessment.CreateFeedback(c.TraceId, "correctness", "yes", AssessmentSource.Human("reviewer"), "Overridden.") with { Overrides = originalId, CreateTimeMs = 1_765_000_000_999 }, None)).AssessmentId!;
            Assert.That((await store.GetTraceAsync(c.TraceId, None)).Info.Assessments.Select(a => a.AssessmentId), Is.EqualTo(new[] { overrideId, originalId }), "the order the sync reads");
            await store.UpdateRunAsync(c.RunId, RunStatus.Finished, 1_765_000_009_000, null, None);
        }

        using var server = Mlflow3();
        var summary = await MlflowSync.SyncAsync(Options(c, server));

        Assert.That(summary.Complete, Is.True, string.Join(" | ", summary.Errors));
        var held = server.Assessments[c.TraceId];
        Assert.That(held.Select(a => (string)a["metadata"]![RunSynchronizer.SourceAssessmentIdMetadata]!), Is.EqualTo(new[] { originalId, overrideId }), "the original first");
        Assert.That((string?)held[1]["overrides"], Is.EqualTo((string)held[0]["assessment_id"]!), "the override names the server's id of the original");
        Assert.That((bool)held[0]["valid"]!, Is.False);
    }

    [Test]
    public async Task An_assessment_added_after_a_sync_is_the_only_thing_the_next_sync_sends()
    {
        using var c = await BuildAsync();
        using var server = Mlflow3();
        Assert.That((await MlflowSync.SyncAsync(Options(c, server))).Complete, Is.True);
        using (var store = new LocalFileStore(c.Root))
        {
            await store.CreateAssessmentAsync(Assessment.CreateFeedback(c.TraceId, "late", "yes", AssessmentSource.Human("reviewer")), None);
        }

        var before = server.Requests.Count;
        var summary = await MlflowSync.SyncAsync(Options(c, server));

        Assert.That((summary.RunsResumed, summary.TracesSent, summary.AssessmentsSent), Is.EqualTo((1, 0, 1)));
        Assert.That(server.Requests.Skip(before).Where(r => r.StartsWith("POST", StringComparison.Ordinal) || r.StartsWith("PUT", StringComparison.Ordinal)),
            Is.EqualTo(new[] { "POST " + Assessments(c) }));
        Assert.That(server.Assessments[c.TraceId].Select(a => (string)a["assessment_name"]!).Count(n => n == "late"), Is.EqualTo(1));
    }

    [TestCase(false, TestName = "Lost answers of trace start and assessment create: once each on a file-backed server")]
    [TestCase(true, TestName = "Lost answers of trace start and assessment create: once each on a SQL server")]
    public async Task Lost_answers_are_settled_by_reading_back(bool deduplicating)
    {
        using var c = await BuildAsync();
        using var server = Mlflow3(deduplicating);
        server.DropAnswerOf(StartTrace);
        server.DropAnswerOf(Assessments(c), 3);

        for (var attempt = 0; attempt < 3 && !(await MlflowSync.SyncAsync(Options(c, server))).Complete; attempt++)
        {
            // a sync that stopped on an unknown outcome is resumed by the next one
        }

        Assert.That(server.FaultsHit, Is.EqualTo(2));
        Assert.That(server.Traces.Keys, Is.EqualTo(new[] { c.TraceId }));
        Assert.That(server.Artifacts.ContainsKey(FakeMlflowServer.TraceDataKey(c.TraceId)), Is.True);
        Assert.That(server.Assessments[c.TraceId].Select(a => (string)a["metadata"]![RunSynchronizer.SourceAssessmentIdMetadata]!), Is.EquivalentTo(c.Assessments.Select(a => a.AssessmentId)),
            "nine assessments, none twice");
        Assert.That(server.SingleRun().Status, Is.EqualTo("FINISHED"));
    }

    [TestCase(false, TestName = "A lost journal sends nothing twice to a file-backed server")]
    [TestCase(true, TestName = "A lost journal sends nothing twice to a SQL server")]
    public async Task A_sync_that_lost_its_journal_finds_the_trace_and_assessments_on_the_server(bool deduplicating)
    {
        using var c = await BuildAsync();
        using var server = Mlflow3(deduplicating);
        Assert.That((await MlflowSync.SyncAsync(Options(c, server))).Complete, Is.True);
        using (var store = new LocalFileStore(c.Root))
        {
            Directory.Delete(Path.Combine(store.GetRunDirectory(c.RunId), SyncJournal.FolderName), recursive: true);
        }

        var summary = await MlflowSync.SyncAsync(Options(c, server));

        Assert.That(summary.Complete, Is.True, string.Join(" | ", summary.Errors));
        Assert.That(summary.AssessmentsSent, Is.Zero);
        Assert.That(server.Traces, Has.Count.EqualTo(1));
        Assert.That(server.Assessments[c.TraceId], Has.Count.EqualTo(9));
        Assert.That(server.Runs, Has.Count.EqualTo(1));
    }

    [Test]
    public async Task A_sync_cancelled_between_assessments_is_completed_by_the_next_without_duplicates()
    {
        using var c = await BuildAsync();
        using var server = Mlflow3();
        using var cts = new CancellationTokenSource();
        var applied = 0;
        server.OnApplied = endpoint =>
        {
            if (endpoint == Assessments(c) && ++applied == 4)
            {
                cts.Cancel(); // the fourth assessment is on the server; its answer arrives at a cancelled sync
            }
        };

        Assert.That(async () => await MlflowSync.SyncAsync(Options(c, server), cancellationToken: cts.Token), Throws.InstanceOf<OperationCanceledException>());
        Assert.That(server.Assessments[c.TraceId], Has.Count.InRange(4, 5));
        server.OnApplied = null;

        var summary = await MlflowSync.SyncAsync(Options(c, server));

        Assert.That(summary.Complete, Is.True, string.Join(" | ", summary.Errors));
        Assert.That(server.Assessments[c.TraceId].Select(a => (string)a["metadata"]![RunSynchronizer.SourceAssessmentIdMetadata]!), Is.EquivalentTo(c.Assessments.Select(a => a.AssessmentId)));
        Assert.That(server.SingleRun().Status, Is.EqualTo("FINISHED"));
    }

    [TestCase("2.12.2", TestName = "To a 2.12.2 server the run is pushed and its traces skipped with one message")]
    [TestCase(null, TestName = "To a server without /version or server-info the run is pushed and its traces skipped")]
    public async Task To_an_mlflow2_server_traces_are_skipped_and_the_run_pushed(string? version)
    {
        using var c = await BuildAsync();
        using var server = new FakeMlflowServer { Version = version };

        var summary = await MlflowSync.SyncAsync(Options(c, server));

        Assert.That(summary.RunsCreated, Is.EqualTo(1));
        Assert.That(server.SingleRun().Status, Is.EqualTo("FINISHED"), "the run itself is complete");
        Assert.That(server.Requests.Where(r => r.Contains("/api/3.0/mlflow/traces", StringComparison.Ordinal)), Is.Empty);
        Assert.That((summary.TracesSent, summary.TracesSkipped, summary.Complete), Is.EqualTo((0, 1, false)));
        var reason = summary.Runs.Single().TracesSkippedReason;
        Assert.That(reason, Does.Contain("MLflow 3").And.Contain(version ?? "older than 3"));
        Assert.That(summary.Errors, Is.Empty);
    }

    [Test]
    public async Task A_dry_run_counts_the_traces_and_assessments_to_send()
    {
        using var c = await BuildAsync();
        using var server = Mlflow3();
        var dry = await MlflowSync.SyncAsync(Options(c, server, dryRun: true));
        Assert.That((dry.TracesSent, dry.AssessmentsSent), Is.EqualTo((1, 9)));
        Assert.That(server.Requests, Is.Empty);

        await MlflowSync.SyncAsync(Options(c, server));
        var after = await MlflowSync.SyncAsync(Options(c, server, dryRun: true));
        Assert.That((after.TracesSent, after.AssessmentsSent), Is.EqualTo((0, 0)));
    }
}
