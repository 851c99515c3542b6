using NUnit.Framework;

namespace Mlflow.Client.Tests.RealServer;

/// <summary>
/// Requests a real MLflow server applies whose answers are then thrown away on the client side (the connection "drops"
/// after the request was forwarded): the SDK must find out what happened instead of guessing. Runs when
/// <c>MLFLOW_TEST_TRACKING_URI</c> is set; run it on a sqlite-backed and a file-backed server, they differ on re-sent points.
/// </summary>
[TestFixture]
[Category("RealServer")]
[NonParallelizable]
[CancelAfter(300_000)]
public class LostAnswerRealServerTests
{
    private string _uri = null!;
    private string _offlineDir = null!;

    [SetUp]
    public void SetUp()
    {
        var uri = RealServer.RealServerEnvironment.RequireTrackingUri();

        _uri = uri;
        _offlineDir = Path.Combine(Path.GetTempPath(), "mlflow-lost-answer-" + Guid.NewGuid().ToString("N"));
    }

    [TearDown]
    public void TearDown()
    {
        if (_offlineDir is not null && Directory.Exists(_offlineDir))
        {
            Directory.Delete(_offlineDir, recursive: true);
        }
    }

    private MlflowTrackerOptions Options(string experiment, Func<HttpMessageHandler, HttpMessageHandler> wrap)
    {
        var options = new MlflowTrackerOptions
        {
            TrackingUri = _uri,
            ExperimentName = experiment,
            Client = new MlflowClientOptions { RequestTimeout = TimeSpan.FromSeconds(30), Retry = { MaxRetries = 2, BackoffFactor = TimeSpan.FromMilliseconds(100), BackoffJitter = TimeSpan.Zero } },
            Offline = new MlflowOfflineOptions { Directory = _offlineDir, ReconnectInterval = TimeSpan.FromMilliseconds(300) },
            WrapHandler = wrap,
        };
        options.Batching.FlushInterval = TimeSpan.FromMilliseconds(100);
        options.Batching.ShutdownTimeout = TimeSpan.FromSeconds(60);
        return options;
    }

    [Test]
    public async Task Create_run_log_batch_with_NaN_and_delete_tag_answers_lost_leave_one_run_with_every_point_once()
    {
        var experiment = "dotnet-lost-" + Guid.NewGuid().ToString("N")[..10];
        var drops = new Drops([("runs/create", 1), ("runs/log-batch", 2), ("runs/delete-tag", 1)]);
        string runId;
        await using (var tracker = MlflowTracker.Create(Options(experiment, inner => new DropAnswers(inner, drops))))
        {
            var run = tracker.StartRun("lost-answers");
            runId = run.RunId;
            run.SetTag("doomed", "x");
            run.LogParam("p", "v");
            await run.FlushAsync(); // log-batch #1: tags and param, answered

            run.LogMetric("n", double.NaN, 0); // log-batch #2 starts with the NaN; its answer is lost
            for (var i = 0; i < 200; i++)
            {
                run.LogMetric("m", i * 0.5, i);
            }

            await run.FlushAsync();
            run.DeleteTag("doomed"); // delete-tag #1: applied, answer lost, read back
            run.LogMetric("n", double.NaN, 1);
            await run.FlushAsync();
            run.Dispose();
            Assert.That(tracker.Counters.Failed, Is.Zero, "nothing rejected: no 400 for a re-sent NaN, no 404 for a re-sent delete");
        }

        Assert.That(drops.Dropped, Is.EqualTo(3));
        using var client = new MlflowClient(new MlflowClientOptions { TrackingUri = _uri });
        var exp = await client.GetExperimentByNameAsync(experiment);
        var runs = new List<Run>();
        await foreach (var found in client.SearchAllRunsAsync(new RunSearchOptions { ExperimentIds = [exp!.ExperimentId], ViewType = ViewType.All }))
        {
            runs.Add(found);
        }

        Assert.That(runs, Has.Count.EqualTo(1), "the lost create was found by its client key, not repeated");
        Assert.That(runs[0].Info.RunId, Is.EqualTo(runId));
        var m = await client.GetMetricHistoryAsync(runId, "m");
        Assert.That(m.Select(p => p.Step).Order(), Is.EqualTo(Enumerable.Range(0, 200).Select(i => (long)i)), "every point once");
        var n = await client.GetMetricHistoryAsync(runId, "n");
        Assert.That(n.Select(p => p.Step).Order(), Is.EqualTo(new long[] { 0, 1 }));
        Assert.That(n.All(p => double.IsNaN(p.Value)), Is.True);
        var data = (await client.GetRunAsync(runId)).Data;
        Assert.That(data.Tags.Any(t => t.Key == "doomed"), Is.False);
        Assert.That(data.Params.Single(p => p.Key == "p").Value, Is.EqualTo("v"));
        Assert.That(runs[0].Info.Status, Is.EqualTo(RunStatus.Finished));
    }

    [Test]
    public async Task Experiment_delete_and_restore_answers_lost_are_confirmed_by_reading_back()
    {
        var drops = new Drops([("experiments/delete", 1), ("experiments/restore", 1)]);
        using var http = new HttpClient(new DropAnswers(new SocketsHttpHandler(), drops));
        using var client = new MlflowClient(http, new MlflowClientOptions { TrackingUri = _uri, Retry = { MaxRetries = 1, BackoffFactor = TimeSpan.FromMilliseconds(100), BackoffJitter = TimeSpan.Zero } });
        var id = await client.CreateExperimentAsync("dotnet-lost-exp-" + Guid.NewGuid().ToString("N")[..10]);

        await client.DeleteExperimentAsync(id);
        Assert.That((await client.GetExperimentAsync(id)).LifecycleStage, Is.EqualTo(LifecycleStage.Deleted));
        await client.RestoreExperimentAsync(id);
        Assert.That((await client.GetExperimentAsync(id)).LifecycleStage, Is.EqualTo(LifecycleStage.Active));
        Assert.That(drops.Dropped, Is.EqualTo(2), "both answers were lost, and neither call failed");
    }
}
