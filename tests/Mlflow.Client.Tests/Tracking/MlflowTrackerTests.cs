using NUnit.Framework;
using static Mlflow.Client.Tests.Tracking.TrackerTestSupport;

namespace Mlflow.Client.Tests.Tracking;

[CancelAfter(60_000)]
public class MlflowTrackerTests
{
    [Test]
    public void StartRun_sends_the_system_tags_and_user_tags_override()
    {
        var store = new FakeTrackingStore();
        using var tracker = CreateTracker(store);
        using (var run = tracker.StartRun("my-run", [new("mlflow.source.type", "JOB"), new("team", "ml")]))
        {
            Assert.That(run.RunName, Is.EqualTo("my-run"));
            Assert.That(run.ExperimentId, Is.EqualTo("0"));
        }

        Assert.That(store.CreatedRuns.TryPeek(out var created), Is.True);
        var tags = created.Tags.ToDictionary(t => t.Key, t => t.Value);
        Assert.Multiple(() =>
        {
            Assert.That(created.RunName, Is.EqualTo("my-run"));
            Assert.That(created.UserId, Is.EqualTo("tester"));
            Assert.That(tags["mlflow.user"], Is.EqualTo("tester"));
            Assert.That(tags["mlflow.runName"], Is.EqualTo("my-run"));
            Assert.That(tags["mlflow.source.type"], Is.EqualTo("JOB"));
            Assert.That(tags["mlflow.source.name"], Is.Not.Empty);
            Assert.That(tags["team"], Is.EqualTo("ml"));
            Assert.That(tags, Does.Not.ContainKey("mlflow.parentRunId"));
        });
        // The test assembly runs inside this repository's git tree (a worktree: .git is a file).
        Assert.That(tags.TryGetValue("mlflow.source.git.commit", out var commit), Is.True);
        Assert.That(commit, Does.Match("^[0-9a-f]{40}$"));
    }

    [Test]
    public void A_run_without_name_gets_adjective_noun_number()
    {
        var store = new FakeTrackingStore();
        using var tracker = CreateTracker(store);
        using var run = tracker.StartRun();
        Assert.That(run.RunName, Does.Match(@"^[a-z]+-[a-z]+-\d{1,3}$"));
        Assert.That(run.RunName.Length, Is.LessThanOrEqualTo(20));
    }

    [Test]
    public void Child_runs_carry_the_parent_run_id()
    {
        var store = new FakeTrackingStore();
        using var tracker = CreateTracker(store);
        using var parent = tracker.StartRun("parent");
        using var child = parent.StartChildRun("child");
        var created = store.CreatedRuns.ToArray();
        Assert.That(created[1].Tags.Single(t => t.Key == "mlflow.parentRunId").Value, Is.EqualTo(parent.RunId));
    }

    [Test]
    public void Dispose_flushes_then_ends_FINISHED()
    {
        var store = new FakeTrackingStore();
        using var tracker = CreateTracker(store);
        string runId;
        using (var run = tracker.StartRun("r"))
        {
            runId = run.RunId;
            run.LogMetric("loss", 0.5);
            run.LogParam("lr", 0.01);
            run.SetTag("t", "v");
        }

        Assert.That(store.Calls.ToArray(), Is.EqualTo(new[] { $"create {runId}", $"batch {runId} 3", $"update {runId} Finished" }));
        var batch = store.Batches.Single();
        Assert.That(batch.Params.Single(), Is.EqualTo(new Param("lr", "0.01")));
    }

    [Test]
    public void A_param_logged_again_with_another_value_is_refused_on_the_callers_thread_and_the_rest_is_sent()
    {
        var store = new FakeTrackingStore();
        using var tracker = CreateTracker(store);
        using (var run = tracker.StartRun("r"))
        {
            run.LogParam("lr", 0.01);
            run.LogParam("lr", 0.01); // the same value again is fine, as on the server, and not sent twice
            var ex = Assert.Throws<MlflowValidationException>(() => run.LogParam("lr", 0.02));
            Assert.That(ex!.Key, Is.EqualTo("lr"));
            Assert.That(ex.Message, Does.Contain("write-once"));
            Assert.That(ex.Message, Does.Not.Contain("0.02"), "values stay out of messages");
            var many = Assert.Throws<MlflowValidationException>(() => run.LogParams([new("lr", 0.03), new("batch", 32)]));
            Assert.That(many!.Key, Is.EqualTo("lr"));
        }

        var sent = store.Batches.SelectMany(b => b.Params).ToList();
        Assert.That(sent, Is.EquivalentTo(new[] { new Param("lr", "0.01"), new Param("batch", "32") }));
    }

    [Test]
    public void Run_helper_marks_FAILED_and_rethrows()
    {
        var store = new FakeTrackingStore();
        using var tracker = CreateTracker(store);
        var ex = Assert.Throws<InvalidOperationException>(() => tracker.Run("r", run =>
        {
            run.LogMetric("m", 1);
            throw new InvalidOperationException("boom");
        }));
        Assert.That(ex!.Message, Is.EqualTo("boom"));
        Assert.That(store.Updates.Single().Status, Is.EqualTo(RunStatus.Failed));
        Assert.That(store.Batches.Single().Metrics, Has.Count.EqualTo(1));
    }

    [Test]
    public async Task RunAsync_helper_marks_FAILED_and_success_FINISHED()
    {
        var store = new FakeTrackingStore();
        await using var tracker = CreateTracker(store);
        Assert.ThrowsAsync<TimeoutException>(() => tracker.RunAsync("bad", async run =>
        {
            await Task.Yield();
            throw new TimeoutException();
        }));
        await tracker.RunAsync("good", run =>
        {
            run.LogMetric("m", 1);
            return Task.CompletedTask;
        });
        Assert.That(store.Updates.Select(u => u.Status), Is.EqualTo(new RunStatus?[] { RunStatus.Failed, RunStatus.Finished }));
    }

    [Test]
    public void Fail_ends_FAILED_and_a_later_dispose_does_not_change_it()
    {
        var store = new FakeTrackingStore();
        using var tracker = CreateTracker(store);
        var run = tracker.StartRun("r");
        run.Fail(new InvalidOperationException("x"));
        run.Dispose();
        Assert.That(run.Status, Is.EqualTo(RunStatus.Failed));
        Assert.That(store.Updates.Select(u => u.Status), Is.EqualTo(new RunStatus?[] { RunStatus.Failed }));
        Assert.Throws<InvalidOperationException>(() => run.LogMetric("m", 1));
    }

    [Test]
    public void Disposing_the_tracker_ends_runs_still_active_as_FINISHED()
    {
        var store = new FakeTrackingStore();
        var tracker = CreateTracker(store);
        var run = tracker.StartRun("r");
        run.LogMetric("m", 1);
        tracker.Dispose();
        Assert.That(store.Calls.ToArray()[1..], Is.EqualTo(new[] { $"batch {run.RunId} 1", $"update {run.RunId} Finished" }));
    }

    [Test]
    public void Validation_errors_name_key_and_rule_and_drop_nothing_else()
    {
        var store = new FakeTrackingStore();
        using var tracker = CreateTracker(store);
        var run = tracker.StartRun("r");
        run.LogMetric("ok1", 1);
        var ex = Assert.Throws<MlflowValidationException>(() => run.LogMetric("bad key!", 1));
        Assert.That(ex!.Key, Is.EqualTo("bad key!"));
        Assert.That(ex.Message, Does.Contain("bad key!").And.Contain("'!'"));
        Assert.Throws<MlflowValidationException>(() => run.LogMetric("neg", 1, timestamp: DateTimeOffset.FromUnixTimeMilliseconds(0).AddMilliseconds(-5)));
        var bulk = Assert.Throws<MlflowValidationException>(() => run.LogMetrics([new("a", 1), new("../x", 2), new("b", 3)]));
        Assert.That(bulk!.Key, Is.EqualTo("../x"));
        Assert.Throws<MlflowValidationException>(() => run.LogParams([new("p1", 1), new("/abs", 2), new("p2", null)]));
        run.Dispose();
        Assert.That(store.AllMetrics(run.RunId).Select(m => m.Key), Is.EqualTo(new[] { "ok1", "a", "b" }));
        Assert.That(store.Batches.SelectMany(b => b.Params), Is.EqualTo(new[] { new Param("p1", "1"), new Param("p2", "None") }));
    }

    [Test]
    public void Overlong_values_are_truncated_by_default_and_refused_with_Throw()
    {
        var store = new FakeTrackingStore();
        using (var tracker = CreateTracker(store))
        using (var run = tracker.StartRun("r"))
        {
            run.LogParam("p", new string('x', 6001));
        }

        Assert.That(store.Batches.Single().Params.Single().Value, Has.Length.EqualTo(6000));
        using var strict = CreateTracker(new FakeTrackingStore(), o => o.OverlongValuePolicy = OverlongValuePolicy.Throw);
        using var run2 = strict.StartRun("r");
        Assert.Throws<MlflowValidationException>(() => run2.SetTag("t", new string('x', 5001)));
    }

    [Test]
    public void Values_are_formatted_invariantly()
    {
        var previous = Thread.CurrentThread.CurrentCulture;
        Thread.CurrentThread.CurrentCulture = new System.Globalization.CultureInfo("de-DE");
        try
        {
            var store = new FakeTrackingStore();
            using var tracker = CreateTracker(store);
            using (var run = tracker.StartRun("r"))
            {
                run.LogParam("d", 0.1);
                run.LogParam("b", true);
                run.LogParam("m", 1.5m);
                run.LogParam("l", long.MaxValue);
                run.LogParam("t", TimeSpan.FromSeconds(90));
                run.LogMetric("secs", TimeSpan.FromMilliseconds(1500));
                run.LogMetric("flag", true);
                run.LogMetric("nan", double.NaN);
            }

            var batch = store.Batches.Single();
            Assert.That(batch.Params.Select(p => p.Value), Is.EqualTo(new[] { "0.1", "True", "1.5", "9223372036854775807", "00:01:30" }));
            Assert.That(batch.Metrics.Select(m => m.Value), Is.EqualTo(new[] { 1.5, 1.0, double.NaN }));
        }
        finally
        {
            Thread.CurrentThread.CurrentCulture = previous;
        }
    }

    [Test]
    public async Task SetExperiment_gets_or_creates_and_refuses_a_deleted_experiment()
    {
        var store = new FakeTrackingStore();
        store.ExperimentsByName["old"] = new Experiment { ExperimentId = "7", Name = "old", LifecycleStage = LifecycleStage.Deleted };
        store.ExperimentsByName["live"] = new Experiment { ExperimentId = "8", Name = "live" };
        await using var tracker = CreateTracker(store);
        Assert.That(await tracker.SetExperimentAsync("live"), Is.EqualTo("8"));
        var created = tracker.SetExperiment("new");
        Assert.That(store.ExperimentsByName["new"].ExperimentId, Is.EqualTo(created));
        var ex = Assert.ThrowsAsync<MlflowException>(() => tracker.SetExperimentAsync("old"));
        Assert.That(ex!.Message, Does.Contain("deleted").And.Contain("Restore"));
        await using var run = await tracker.StartRunAsync("r");
        Assert.That(run.ExperimentId, Is.EqualTo(created));
    }

    [Test]
    public void Experiment_name_from_the_environment_is_created_when_missing()
    {
        var store = new FakeTrackingStore();
        var options = new MlflowTrackerOptions();
        using var tracker = new MlflowTracker(store, options, null, EnvironmentReader.FromDictionary(new Dictionary<string, string> { ["MLFLOW_EXPERIMENT_NAME"] = "from-env" }));
        using var run = tracker.StartRun("r");
        Assert.That(run.ExperimentId, Is.EqualTo(store.ExperimentsByName["from-env"].ExperimentId));
    }

    [Test]
    public async Task Create_with_a_file_uri_logs_to_the_local_store_in_mlflows_layout()
    {
        var root = Path.Combine(Path.GetTempPath(), "mlflow-tracker-" + Guid.NewGuid().ToString("N"));
        try
        {
            string runId;
            string experimentId;
            await using (var tracker = MlflowTracker.Create(new MlflowTrackerOptions { TrackingUri = new Uri(root).AbsoluteUri, ExperimentName = "local-exp" }))
            {
                await using var run = await tracker.StartRunAsync("local-run");
                runId = run.RunId;
                experimentId = run.ExperimentId;
                run.LogParam("lr", 0.001);
                for (var step = 0; step < 3; step++)
                {
                    run.LogMetric("loss", 1.0 / (step + 1), step: step);
                }

                run.SetTag("stage", "test");
            }

            using var store = new Mlflow.Client.FileStore.LocalFileStore(root);
            var stored = await store.GetRunAsync(runId, CancellationToken.None);
            Assert.That(stored.Info.Status, Is.EqualTo(RunStatus.Finished));
            Assert.That(stored.Info.RunName, Is.EqualTo("local-run"));
            Assert.That(stored.Data.Params, Does.Contain(new Param("lr", "0.001")));
            Assert.That(stored.Data.Tags, Does.Contain(new Tag("stage", "test")));
            var history = await store.GetMetricHistoryAsync(runId, "loss", CancellationToken.None);
            Assert.That(history.Select(m => (m.Step, m.Value)), Is.EqualTo(new[] { (0L, 1.0), (1L, 0.5), (2L, 1.0 / 3) }));
            Assert.That(File.Exists(Path.Combine(root, experimentId, runId, "metrics", "loss")), Is.True);
        }
        finally
        {
            if (Directory.Exists(root))
            {
                Directory.Delete(root, recursive: true);
            }
        }
    }

    [Test]
    public void Create_refuses_database_uris_without_showing_credentials()
    {
        var ex = Assert.Throws<NotSupportedException>(() => MlflowTracker.Create(new MlflowTrackerOptions { TrackingUri = "postgresql://u:secret@h/db" }));
        Assert.That(ex!.Message, Does.Not.Contain("secret").And.Contain("postgresql"));
    }
}
