using System.Net;
using System.Net.Sockets;
using Mlflow.Client.FileStore;
using Mlflow.Client.Store;
using Mlflow.Client.Tests.Infrastructure;
using NUnit.Framework;
using WireMock.RequestBuilders;
using WireMock.ResponseBuilders;

namespace Mlflow.Client.Tests.Tracking;

/// <summary>Reopening a run (ResumeRun, StartRunOptions.RunId, MLFLOW_RUN_ID) and starting one with an experiment id and a description.</summary>
[TestFixture]
public class ResumeRunTests
{
    private string _root = null!;

    [SetUp]
    public void SetUp() => _root = Path.Combine(Path.GetTempPath(), "mlflow-resume-" + Guid.NewGuid().ToString("N"));

    [TearDown]
    public void TearDown()
    {
        if (Directory.Exists(_root))
        {
            Directory.Delete(_root, recursive: true);
        }
    }

    private MlflowTracker LocalTracker(Dictionary<string, string>? env = null)
    {
        var options = new MlflowTrackerOptions();
        options.Batching.ShutdownTimeout = TimeSpan.FromSeconds(10);
        return new MlflowTracker(new LocalFileStore(_root), options, null, EnvironmentReader.FromDictionary(env ?? []), ownsStore: true, user: "tester");
    }

    [Test]
    public async Task ResumeRun_OnTheLocalStore_IsRunningAgain_KeepsItsData_AndEndsAgain()
    {
        string runId;
        long firstEnd;
        using (var tracker = LocalTracker())
        {
            using (var run = tracker.StartRun("first"))
            {
                runId = run.RunId;
                run.LogParam("lr", 0.1);
                run.LogMetric("loss", 1.0, step: 0);
            }

            using var store = new LocalFileStore(_root);
            firstEnd = (await store.GetRunAsync(runId, CancellationToken.None)).Info.EndTime!.Value;

            var again = await tracker.ResumeRunAsync(runId);
            Assert.That(again.RunId, Is.EqualTo(runId));
            Assert.That(again.RunName, Is.EqualTo("first"));
            var reopened = await store.GetRunAsync(runId, CancellationToken.None);
            Assert.That(reopened.Info.Status, Is.EqualTo(RunStatus.Running));
            Assert.That(reopened.Info.EndTime, Is.EqualTo(firstEnd), "the end time stays until the run ends again, as MLflow");
            again.LogMetric("loss", 0.5, step: 1);
            again.End();

            var ended = await store.GetRunAsync(runId, CancellationToken.None);
            Assert.That(ended.Info.Status, Is.EqualTo(RunStatus.Finished));
            Assert.That(ended.Data.Params, Does.Contain(new Param("lr", "0.1")));
            var history = await store.GetMetricHistoryAsync(runId, "loss", CancellationToken.None);
            Assert.That(history.Select(m => m.Step), Is.EqualTo(new[] { 0L, 1L }));
        }
    }

    [Test]
    public async Task ResumeRun_OfADeletedRun_IsRefusedClearly()
    {
        using var tracker = LocalTracker();
        string runId;
        using (var run = tracker.StartRun("gone"))
        {
            runId = run.RunId;
        }

        using var store = new LocalFileStore(_root);
        await store.DeleteRunAsync(runId, CancellationToken.None);

        var ex = Assert.Throws<MlflowException>(() => tracker.ResumeRun(runId));
        Assert.That(ex!.Message, Does.Contain("deleted"));
        Assert.That((await store.GetRunAsync(runId, CancellationToken.None)).Info.Status, Is.EqualTo(RunStatus.Finished), "left as it was");
    }

    [Test]
    public void ResumeRun_OfAMissingRun_Throws()
    {
        using var tracker = LocalTracker();

        var ex = Assert.Throws<MlflowException>(() => tracker.ResumeRun("0123456789abcdef0123456789abcdef"));
        Assert.That(ex!.ErrorCode, Is.EqualTo(MlflowErrorCode.ResourceDoesNotExist));
    }

    [Test]
    public async Task MlflowRunId_IsReopenedByTheFirstTopLevelStart_Only()
    {
        string runId;
        using (var first = LocalTracker())
        {
            using var run = first.StartRun("env");
            runId = run.RunId;
        }

        using var tracker = LocalTracker(new() { [MlflowEnvironmentVariables.RunId] = runId });
        var resumed = tracker.StartRun();
        Assert.That(resumed.RunId, Is.EqualTo(runId));
        using var store = new LocalFileStore(_root);
        Assert.That((await store.GetRunAsync(runId, CancellationToken.None)).Info.Status, Is.EqualTo(RunStatus.Running));
        resumed.Dispose();
        Assert.That((await store.GetRunAsync(runId, CancellationToken.None)).Info.Status, Is.EqualTo(RunStatus.Finished));

        using var next = tracker.StartRun("new");
        Assert.That(next.RunId, Is.Not.EqualTo(runId), "MLflow reads MLFLOW_RUN_ID once");
    }

    [Test]
    public async Task StartRun_WithOptions_UsesTheExperimentId_AndTheDescription()
    {
        using var tracker = LocalTracker();
        using var store = new LocalFileStore(_root);
        var experiment = await store.CreateExperimentAsync("other", null, null, CancellationToken.None);

        using (var run = tracker.StartRun(new StartRunOptions { RunName = "described", ExperimentId = experiment, Description = "what it does" }))
        {
            Assert.That(run.ExperimentId, Is.EqualTo(experiment));
            var stored = await store.GetRunAsync(run.RunId, CancellationToken.None);
            Assert.That(stored.Info.ExperimentId, Is.EqualTo(experiment));
            Assert.That(stored.Data.Tags, Does.Contain(new Tag("mlflow.note.content", "what it does")));
        }

        Assert.Throws<ArgumentException>(() => tracker.StartRun(new StartRunOptions { Description = "a", Tags = [new("mlflow.note.content", "b")] }));
    }

    [Test]
    public async Task StartRun_WithARunId_ReopensIt_SetsTheDescription_AndChecksTheExperiment()
    {
        using var tracker = LocalTracker();
        string runId;
        using (var run = tracker.StartRun("x"))
        {
            runId = run.RunId;
        }

        Assert.Throws<MlflowException>(() => tracker.StartRun(new StartRunOptions { RunId = runId, ExperimentId = "12345" }), "the run is in experiment 0");
        using var store = new LocalFileStore(_root);
        Assert.That((await store.GetRunAsync(runId, CancellationToken.None)).Info.Status, Is.EqualTo(RunStatus.Finished), "a refused reopening changes nothing");

        using (var again = tracker.StartRun(new StartRunOptions { RunId = runId, Description = "evaluated", Tags = [new("phase", "eval")] }))
        {
            Assert.Throws<InvalidOperationException>(() => tracker.ResumeRun(runId), "already open in this tracker");
        }

        var stored = await store.GetRunAsync(runId, CancellationToken.None);
        Assert.That(stored.Data.Tags, Does.Contain(new Tag("mlflow.note.content", "evaluated")).And.Contain(new Tag("phase", "eval")));
        Assert.That(stored.Info.Status, Is.EqualTo(RunStatus.Finished));
    }

    [Test]
    public void ResumeRun_OnAServer_SendsRunningWithTheEndTime_ThenTheFinalStatus()
    {
        using var server = FixtureServer.Start();
        server.Server.Given(Request.Create().WithPath("/api/2.0/mlflow/runs/get").UsingGet()).RespondWith(Response.Create().WithStatusCode(200).WithBody(
            """{"run":{"info":{"run_id":"0123456789abcdef0123456789abcdef","run_name":"srv","experiment_id":"3","status":"FINISHED","end_time":1700000000123,"lifecycle_stage":"active"},"data":{}}}"""));
        server.Server.Given(Request.Create().WithPath("/api/2.0/mlflow/runs/update").UsingPost()).RespondWith(Response.Create().WithStatusCode(200).WithBody("""{"run_info":{}}"""));
        using var tracker = ServerTracker(server);

        var run = tracker.ResumeRun("0123456789abcdef0123456789abcdef");
        Assert.That(run.ExperimentId, Is.EqualTo("3"));
        run.Dispose();

        var updates = server.Requests.Where(r => r.RequestMessage.Path.EndsWith("runs/update", StringComparison.Ordinal)).Select(r => FixtureServer.BodyJson(r)!).ToList();
        Assert.That(updates, Has.Count.EqualTo(2));
        Assert.That((string?)updates[0]["status"], Is.EqualTo("RUNNING"));
        Assert.That((long?)updates[0]["end_time"], Is.EqualTo(1700000000123L));
        Assert.That((string?)updates[1]["status"], Is.EqualTo("FINISHED"));
    }

    [Test]
    public void ResumeRun_OfADeletedRunOnAServer_SendsNoUpdate()
    {
        using var server = FixtureServer.Start();
        server.Server.Given(Request.Create().WithPath("/api/2.0/mlflow/runs/get").UsingGet()).RespondWith(Response.Create().WithStatusCode(200).WithBody(
            """{"run":{"info":{"run_id":"0123456789abcdef0123456789abcdef","experiment_id":"3","status":"FINISHED","lifecycle_stage":"deleted"},"data":{}}}"""));
        using var tracker = ServerTracker(server);

        var ex = Assert.Throws<MlflowException>(() => tracker.ResumeRun("0123456789abcdef0123456789abcdef"));

        Assert.That(ex!.Message, Does.Contain("deleted"));
        Assert.That(server.Requests.Any(r => r.RequestMessage.Path.EndsWith("runs/update", StringComparison.Ordinal)), Is.False);
    }

    [Test]
    public void ResumeRun_WithTheServerUnreachable_FailsClearly_AndQueuesNothing()
    {
        var port = ClosedPort();
        var offlineDir = Path.Combine(_root, "offline");
        var options = new MlflowTrackerOptions { TrackingUri = $"http://127.0.0.1:{port}" };
        options.Offline.Directory = offlineDir;
        options.Offline.OfflineAfter = TimeSpan.FromSeconds(5);
        options.Batching.ShutdownTimeout = TimeSpan.FromSeconds(2);
        using var tracker = MlflowTracker.Create(options);

        var ex = Assert.Throws<MlflowException>(() => tracker.ResumeRun("0123456789abcdef0123456789abcdef"));

        Assert.That(ex!.Message, Does.Contain("cannot be reopened").And.Contain("not queued"));
        Assert.That(ex.Kind, Is.EqualTo(MlflowFailureKind.Unreachable));
    }

    private static MlflowTracker ServerTracker(FixtureServer server)
    {
        var options = new MlflowTrackerOptions();
        options.Batching.ShutdownTimeout = TimeSpan.FromSeconds(10);
        return new MlflowTracker(new RestTrackingStore(server.CreateClient(), ownsClient: true), options, null, EnvironmentReader.FromDictionary(new Dictionary<string, string>()), ownsStore: true, user: "tester");
    }

    private static int ClosedPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }
}
