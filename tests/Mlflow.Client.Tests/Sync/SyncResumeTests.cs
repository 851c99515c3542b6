using System.Text;
using System.Text.Json.Nodes;
using Mlflow.Client.FileStore;
using Mlflow.Client.Sync;
using NUnit.Framework;

namespace Mlflow.Client.Tests.Sync;

/// <summary>
/// How a sync spends requests and reads the local store: one retry budget per request (the client's pipeline), and
/// metric files read from where the last sync stopped.
/// </summary>
[TestFixture]
[Parallelizable(ParallelScope.Children)]
[CancelAfter(120_000)]
internal sealed class SyncResumeTests
{
    private const int PipelineRetries = 2;

    /// <summary>A temp folder holding the local store under test.</summary>
    private sealed class Ctx : IDisposable
    {
        private readonly Offline.OfflineFallbackTests.Dir _dir = new();

        public string Root => Path.Combine(_dir.Path, "mlruns");

        public void Dispose() => _dir.Dispose();
    }

    private static SyncOptions Options(Ctx c, FakeMlflowServer server) => new()
    {
        WrapHandler = inner => new LostAnswerHandler(inner),
        From = c.Root,
        To = server.Url,
        Client = new MlflowClientOptions
        {
            RequestTimeout = TimeSpan.FromSeconds(10),
            Retry = { MaxRetries = PipelineRetries, BackoffFactor = TimeSpan.FromMilliseconds(2), BackoffJitter = TimeSpan.Zero },
        },
    };

    /// <summary>A finished run with a 300-point metric "m"; returns its id.</summary>
    private static async Task<string> BuildRunAsync(string root, int points = 300)
    {
        using var store = new LocalFileStore(root);
        var exp = await store.CreateExperimentAsync("resume-exp", null, null, CancellationToken.None);
        var run = await store.CreateRunAsync(exp, "r", 1_700_000_000_000, null, "alice", CancellationToken.None);
        await AppendAsync(root, run.Info.RunId, 0, points);
        await store.UpdateRunAsync(run.Info.RunId, RunStatus.Finished, 1_700_000_009_000, null, CancellationToken.None);
        return run.Info.RunId;
    }

    private static async Task AppendAsync(string root, string runId, int from, int count)
    {
        using var store = new LocalFileStore(root);
        var points = Enumerable.Range(from, count).Select(i => new Metric("m", i * 0.5, 1_700_000_001_000 + i, i)).ToList();
        await store.LogBatchAsync(runId, points, [], [], CancellationToken.None);
    }

    private static string MetricFile(string root, string runId)
    {
        using var store = new LocalFileStore(root);
        return Path.Combine(store.GetRunDirectory(runId), "metrics", "m");
    }

    private static string JournalFile(string root, string runId)
    {
        using var store = new LocalFileStore(root);
        return Directory.GetFiles(Path.Combine(store.GetRunDirectory(runId), SyncJournal.FolderName), "sync-*.json").Single();
    }

    private static List<long> ServerSteps(FakeMlflowServer server)
    {
        lock (server.Runs)
        {
            return server.SingleRun().Metrics["m"].Select(p => p.Step).ToList();
        }
    }

    [Test]
    public async Task TransientFailure_IsRetriedByThePipelineOnly_OneBudgetPerRequest()
    {
        using var c = new Ctx();
        await BuildRunAsync(c.Root);
        using var server = new FakeMlflowServer();
        for (var nth = 1; nth <= 40; nth++)
        {
            server.Answer("runs/update", nth, 503); // not applied: the pipeline may retry it
        }

        var failed = await MlflowSync.SyncAsync(Options(c, server));

        Assert.That(failed.RunsFailed, Is.EqualTo(1));
        Assert.That(server.Count("runs/update"), Is.EqualTo(PipelineRetries + 1), "one pipeline budget, not budget × sync attempts");
        Assert.That(ServerSteps(server), Has.Count.EqualTo(300), "everything before the status arrived");
        Assert.That(server.SingleRun().Status, Is.EqualTo("RUNNING"), "the status is not sent as done");

        server.ClearFaults();
        var again = await MlflowSync.SyncAsync(Options(c, server));

        Assert.That(again.Complete, Is.True, string.Join("; ", again.Errors));
        Assert.That(again.MetricPointsSent, Is.Zero, "the journal kept what was acknowledged");
        Assert.That(server.SingleRun().Status, Is.EqualTo("FINISHED"));
        Assert.That(server.Count("runs/update"), Is.EqualTo(PipelineRetries + 2));
    }

    [Test]
    public async Task NoAnswerForAMetricBatch_StopsTheRun_AndTheNextSyncReconcilesFromHistory()
    {
        using var c = new Ctx();
        await BuildRunAsync(c.Root);
        using var server = new FakeMlflowServer(); // appending: a blind re-send would double points
        server.DropAnswerOf("runs/log-batch", 2); // tags = 1, metrics = 2: applied, answer lost
        for (var nth = 1; nth <= 40; nth++)
        {
            server.Answer("metrics/get-history", nth, 503); // and the history cannot be read in this sync
        }

        var failed = await MlflowSync.SyncAsync(Options(c, server));

        Assert.That(failed.RunsFailed, Is.EqualTo(1));
        Assert.That(server.Count("runs/log-batch"), Is.EqualTo(2), "a batch without an answer is never re-sent blindly");
        Assert.That(server.Count("metrics/get-history"), Is.EqualTo(PipelineRetries + 1), "one pipeline budget for the read");

        server.ClearFaults();
        var again = await MlflowSync.SyncAsync(Options(c, server));

        Assert.That(again.Complete, Is.True, string.Join("; ", again.Errors));
        Assert.That(ServerSteps(server), Is.EqualTo(Enumerable.Range(0, 300).Select(i => (long)i)), "every point once");
    }

    [Test]
    public async Task SecondSync_ReadsTheMetricFileFromWhereTheLastStopped()
    {
        using var c = new Ctx();
        var runId = await BuildRunAsync(c.Root);
        using var server = new FakeMlflowServer();
        Assert.That((await MlflowSync.SyncAsync(Options(c, server))).Complete, Is.True);

        // Make a line of the acknowledged prefix unparseable: read again, it would shift every later point by one.
        var file = MetricFile(c.Root, runId);
        var lengthBefore = new FileInfo(file).Length;
        var bytes = File.ReadAllBytes(file);
        var lineStart = Array.IndexOf(bytes, (byte)'\n') + 1; // the second line
        bytes[lineStart] = (byte)'x';
        File.WriteAllBytes(file, bytes);
        await AppendAsync(c.Root, runId, 300, 50);

        var again = await MlflowSync.SyncAsync(Options(c, server));

        Assert.That(again.Complete, Is.True, string.Join("; ", again.Errors));
        Assert.That(again.MetricPointsSent, Is.EqualTo(50), "only the new points");
        Assert.That(ServerSteps(server), Is.EqualTo(Enumerable.Range(0, 350).Select(i => (long)i)), "the new points, none skipped, none twice");
        Assert.That(again.Runs[0].MetricBytesRead, Is.EqualTo(new FileInfo(file).Length - lengthBefore), "only the bytes after the offset were read");
    }

    [TestCase(false)]
    [TestCase(true)]
    public async Task Choosing_the_runs_to_sync_reads_no_metric_file(bool byRunId)
    {
        using var c = new Ctx();
        var runId = await BuildRunAsync(c.Root);
        using var server = new FakeMlflowServer();
        Assert.That((await MlflowSync.SyncAsync(Options(c, server))).Complete, Is.True);
        // A malformed line in the acknowledged prefix: any full read of the file reports it.
        var file = MetricFile(c.Root, runId);
        var bytes = File.ReadAllBytes(file);
        bytes[Array.IndexOf(bytes, (byte)'\n') + 1] = (byte)'x';
        File.WriteAllBytes(file, bytes);
        await AppendAsync(c.Root, runId, 300, 10);
        var logs = new Resilience.CapturingLoggerFactory();

        var again = await MlflowSync.SyncAsync(Options(c, server) with { LoggerFactory = logs, RunId = byRunId ? runId : null });

        Assert.That(again.Complete, Is.True, string.Join("; ", again.Errors));
        Assert.That(again.MetricPointsSent, Is.EqualTo(10));
        Assert.That(logs.Warnings.Where(w => w.Contains("skipped line", StringComparison.Ordinal)), Is.Empty,
            "the acknowledged prefix was read: choosing the runs parsed the whole metric file for its latest value");
    }

    [Test]
    public async Task OldJournalWithoutOffsets_ReadsFromTheStart_ThenRecordsOffsets()
    {
        using var c = new Ctx();
        var runId = await BuildRunAsync(c.Root);
        using var server = new FakeMlflowServer();
        Assert.That((await MlflowSync.SyncAsync(Options(c, server))).Complete, Is.True);
        var journalPath = JournalFile(c.Root, runId);
        var journal = JsonNode.Parse(File.ReadAllText(journalPath))!.AsObject();
        journal.Remove("metric_offsets"); // as written by a version without offsets
        File.WriteAllText(journalPath, journal.ToJsonString());
        await AppendAsync(c.Root, runId, 300, 20);
        var file = MetricFile(c.Root, runId);

        var second = await MlflowSync.SyncAsync(Options(c, server));

        Assert.That(second.Complete, Is.True, string.Join("; ", second.Errors));
        Assert.That(second.MetricPointsSent, Is.EqualTo(20));
        Assert.That(second.Runs[0].MetricBytesRead, Is.EqualTo(new FileInfo(file).Length), "no offset: the whole file");
        Assert.That(JsonNode.Parse(File.ReadAllText(journalPath))!["metric_offsets"]?["m"], Is.Not.Null, "offsets recorded now");

        var lengthBefore = new FileInfo(file).Length;
        await AppendAsync(c.Root, runId, 320, 5);
        var third = await MlflowSync.SyncAsync(Options(c, server));

        Assert.That(third.MetricPointsSent, Is.EqualTo(5));
        Assert.That(third.Runs[0].MetricBytesRead, Is.EqualTo(new FileInfo(file).Length - lengthBefore));
        Assert.That(ServerSteps(server), Is.EqualTo(Enumerable.Range(0, 325).Select(i => (long)i)));
    }

    [Test]
    public async Task RewrittenMetricFile_OffsetNotTrusted_ReadFromTheStart()
    {
        using var c = new Ctx();
        var runId = await BuildRunAsync(c.Root, points: 10);
        using var server = new FakeMlflowServer();
        Assert.That((await MlflowSync.SyncAsync(Options(c, server))).Complete, Is.True);
        var file = MetricFile(c.Root, runId);
        // Same points, written with another float spelling and one more point: the offset no longer ends the 10th point.
        var text = new StringBuilder();
        for (var i = 0; i < 11; i++)
        {
            text.Append(System.Globalization.CultureInfo.InvariantCulture, $"{1_700_000_001_000 + i} {i * 0.5:0.000000} {i}\n");
        }

        File.WriteAllText(file, text.ToString());

        var again = await MlflowSync.SyncAsync(Options(c, server));

        Assert.That(again.Complete, Is.True, string.Join("; ", again.Errors));
        Assert.That(again.MetricPointsSent, Is.EqualTo(1));
        Assert.That(again.Runs[0].MetricBytesRead, Is.EqualTo(new FileInfo(file).Length));
        Assert.That(ServerSteps(server), Is.EqualTo(Enumerable.Range(0, 11).Select(i => (long)i)));
    }

    [Test]
    public async Task LostAnswerAfterAnOffsetResume_ReconcilesAgainstTheWholeFile()
    {
        using var c = new Ctx();
        var runId = await BuildRunAsync(c.Root, points: 10);
        using var server = new FakeMlflowServer(); // appending: copies count
        Assert.That((await MlflowSync.SyncAsync(Options(c, server))).Complete, Is.True);
        var batches = server.Count("runs/log-batch");
        // A copy of an acknowledged point (same timestamp, step, value) and a new one; the answer of their batch is lost.
        await AppendAsync(c.Root, runId, 0, 1);
        await AppendAsync(c.Root, runId, 10, 1);
        server.DropAnswerOf("runs/log-batch", batches + 1);

        var again = await MlflowSync.SyncAsync(Options(c, server));

        Assert.That(again.Complete, Is.True, string.Join("; ", again.Errors));
        Assert.That(server.Count("metrics/get-history"), Is.EqualTo(1), "the history decided");
        Assert.That(ServerSteps(server).Order(), Is.EqualTo(new long[] { 0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10 }), "the copy once more, as in the local file; nothing else twice");
    }

    [Test]
    public async Task Two_metric_batches_are_in_flight_and_every_point_arrives_once()
    {
        using var c = new Ctx();
        await BuildRunAsync(c.Root, points: 10_000);
        using var server = new FakeMlflowServer();
        var probe = new InFlightProbe(TimeSpan.FromMilliseconds(50));
        var summary = await MlflowSync.SyncAsync(Options(c, server) with { WrapHandler = inner => probe.Wrap(new LostAnswerHandler(inner)) });

        Assert.That(summary.Complete, Is.True, string.Join("; ", summary.Errors));
        Assert.That(probe.MaxInFlight, Is.EqualTo(2), "log-batch requests in flight like the tracker's, no more");
        Assert.That(ServerSteps(server).Order(), Is.EqualTo(Enumerable.Range(0, 10_000).Select(i => (long)i)), "every point once");
        Assert.That(summary.MetricPointsSent, Is.EqualTo(10_000));
    }

    [Test]
    public async Task Each_metric_batch_is_in_the_journal_before_it_goes_and_is_written_there_while_the_earlier_ones_are_out()
    {
        using var c = new Ctx();
        var runId = await BuildRunAsync(c.Root, points: 12_000);
        using var server = new FakeMlflowServer();
        var journal = new JournalWatch(() => JournalFile(c.Root, runId), hold: TimeSpan.FromSeconds(5));
        var summary = await MlflowSync.SyncAsync(Options(c, server) with { WrapHandler = inner => journal.Wrap(new LostAnswerHandler(inner)) });

        Assert.That(summary.Complete, Is.True, string.Join("; ", summary.Errors));
        Assert.That(ServerSteps(server).Order(), Is.EqualTo(Enumerable.Range(0, 12_000).Select(i => (long)i)), "every point once");
        var sends = journal.Sends;
        Assert.That(sends, Has.Count.EqualTo(12), "premise: one request per 1,000 points");
        Assert.Multiple(() =>
        {
            foreach (var send in sends)
            {
                // Write-ahead: were the answer lost, the journal on disk sends the batch's points to reconciliation.
                Assert.That(send.InFlightEnd, Is.GreaterThanOrEqualTo(send.LastStep + 1), $"the batch ending at step {send.LastStep} is in flight in the journal when it goes");
            }
        });

        // Two requests are out and both answers are held: the batch that takes the next free slot is cut and written in
        // the journal meanwhile, so the slot is filled at once. Cut only once a slot was free, it never showed while both
        // were held (each answer was let go after 5 s without it).
        Assert.That(journal.WrittenWhileHeld, Is.EqualTo(Enumerable.Range(3, 10).Select(batch => batch * 1000L).ToList()), "the ends of the batches found in the journal while the two before them were out");
    }

    /// <summary>
    /// Reads the sync journal on disk as each log-batch request goes out, and holds the answer to the k-th request until
    /// the journal holds the (k+2)-th batch in flight: the one that takes the slot this answer frees. A hold that ends
    /// without it (after <c>hold</c>) ends the holding: the test has failed and runs on to its assertions.
    /// </summary>
    private sealed class JournalWatch(Func<string> path, TimeSpan hold)
    {
        private const int BatchSize = 1000;
        private readonly Func<string> _path = path;
        private readonly TimeSpan _hold = hold;
        private readonly List<Send> _sends = [];
        private readonly List<long> _writtenWhileHeld = [];
        private volatile bool _gaveUp;

        public List<Send> Sends
        {
            get
            {
                lock (_sends)
                {
                    return [.. _sends];
                }
            }
        }

        /// <summary>The in-flight ends of "m" seen in the journal while the answer two requests before was held, in order.</summary>
        public List<long> WrittenWhileHeld
        {
            get
            {
                lock (_sends)
                {
                    return [.. _writtenWhileHeld.Order()];
                }
            }
        }

        public HttpMessageHandler Wrap(HttpMessageHandler inner) => new Handler(this, inner);

        /// <summary>A request: its last step and the end of the journal's in-flight range of "m" when it went.</summary>
        public sealed record Send(long LastStep, long InFlightEnd);

        private long InFlightEnd() => JsonNode.Parse(File.ReadAllText(_path()))!["in_flight"]?["m"]?[1]?.GetValue<long>() ?? -1;

        private sealed class Handler(JournalWatch watch, HttpMessageHandler inner) : DelegatingHandler(inner)
        {
            protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
            {
                if (request.RequestUri?.AbsolutePath.EndsWith("/runs/log-batch", StringComparison.Ordinal) != true)
                {
                    return await base.SendAsync(request, cancellationToken);
                }

                var body = JsonNode.Parse(await request.Content!.ReadAsStringAsync(cancellationToken))!;
                var metrics = body["metrics"]?.AsArray();
                if (metrics is not { Count: > 0 })
                {
                    return await base.SendAsync(request, cancellationToken); // the tags
                }

                var lastStep = metrics[^1]!["step"]!.GetValue<long>();
                lock (watch._sends)
                {
                    watch._sends.Add(new Send(lastStep, watch.InFlightEnd()));
                }

                var response = await base.SendAsync(request, cancellationToken);
                var wanted = lastStep + 1 + (2 * BatchSize); // the end of the batch two after this one
                if (wanted > 12_000 || watch._gaveUp)
                {
                    return response;
                }

                // Bounded: 5 s, in 2 ms waits. The journal is replaced whole (written aside, then moved), never read half-written.
                var deadline = DateTime.UtcNow + watch._hold;
                long end;
                while ((end = watch.InFlightEnd()) < wanted && DateTime.UtcNow < deadline)
                {
                    await Task.Delay(2, cancellationToken);
                }

                lock (watch._sends)
                {
                    if (end >= wanted)
                    {
                        watch._writtenWhileHeld.Add(wanted);
                    }
                    else
                    {
                        watch._gaveUp = true;
                    }
                }

                return response;
            }
        }
    }

    /// <summary>Holds each log-batch request for a while on the client's side and counts how many are in flight at once.</summary>
    private sealed class InFlightProbe(TimeSpan hold)
    {
        private readonly TimeSpan _hold = hold;
        private int _now;
        private int _max;

        public int MaxInFlight => Volatile.Read(ref _max);

        public HttpMessageHandler Wrap(HttpMessageHandler inner) => new Handler(this, inner);

        private sealed class Handler(InFlightProbe probe, HttpMessageHandler inner) : DelegatingHandler(inner)
        {
            protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
            {
                if (request.RequestUri?.AbsolutePath.EndsWith("/runs/log-batch", StringComparison.Ordinal) != true)
                {
                    return await base.SendAsync(request, cancellationToken);
                }

                var now = Interlocked.Increment(ref probe._now);
                lock (probe)
                {
                    probe._max = Math.Max(probe._max, now);
                }

                try
                {
                    await Task.Delay(probe._hold, cancellationToken);
                    return await base.SendAsync(request, cancellationToken);
                }
                finally
                {
                    Interlocked.Decrement(ref probe._now);
                }
            }
        }
    }

    [TestCase(false)]
    [TestCase(true)]
    public async Task A_lost_answer_with_two_batches_in_flight_is_reconciled_and_every_point_arrives_once(bool deduplicating)
    {
        using var c = new Ctx();
        await BuildRunAsync(c.Root, points: 6_000);
        using var server = new FakeMlflowServer(deduplicating) { LogBatchServiceTime = TimeSpan.FromMilliseconds(20) };
        server.DropAnswerOf("runs/log-batch", 3); // applied, answer lost, while the fourth is in flight

        var summary = await MlflowSync.SyncAsync(Options(c, server));

        Assert.That(summary.Complete, Is.True, string.Join("; ", summary.Errors));
        Assert.That(server.FaultsHit, Is.EqualTo(1), "premise: the answer was lost");
        Assert.That(ServerSteps(server).Order(), Is.EqualTo(Enumerable.Range(0, 6_000).Select(i => (long)i)), "once each: the server's history decided, no blind re-send");
        var again = await MlflowSync.SyncAsync(Options(c, server));
        Assert.That(again.MetricPointsSent, Is.Zero, "the journal holds the acknowledged prefix");
    }

    [Test]
    public async Task A_batch_the_server_did_not_apply_leaves_the_batch_sent_after_it_in_flight_for_the_next_sync()
    {
        using var c = new Ctx();
        await BuildRunAsync(c.Root, points: 4_000);
        using var server = new FakeMlflowServer { LogBatchServiceTime = TimeSpan.FromMilliseconds(20) };
        for (var nth = 3; nth <= 13; nth++) // the first log-batch request holds the tags
        {
            server.Answer("runs/log-batch", nth, 503); // everything after the first batch: refused, never applied
        }

        var failed = await MlflowSync.SyncAsync(Options(c, server));
        Assert.That(failed.RunsFailed, Is.EqualTo(1), "premise: the second batch failed");
        Assert.That(ServerSteps(server), Has.Count.EqualTo(1_000), "premise: only the first batch was applied");

        server.ClearFaults();
        var summary = await MlflowSync.SyncAsync(Options(c, server));
        Assert.That(summary.Complete, Is.True, string.Join("; ", summary.Errors));
        Assert.That(server.Count("metrics/get-history"), Is.EqualTo(1), "the batch in flight behind the failed one was checked against the history");
        Assert.That(ServerSteps(server).Order(), Is.EqualTo(Enumerable.Range(0, 4_000).Select(i => (long)i)), "once each");
    }
}
