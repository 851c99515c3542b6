using System.Text;
using System.Text.Json.Nodes;
using Mlflow.Client.Tests.Offline;
using Mlflow.Client.Tests.Tracking;
using NUnit.Framework;

namespace Mlflow.Client.Tests.InMemory;

/// <summary>
/// <see cref="MlflowTracker.CreateInMemory"/>: a user's own evaluation code tested with it, the same validation as a real
/// tracker, child runs and end statuses, artifacts read back, the registry, and nothing on disk.
/// </summary>
[TestFixture]
[Parallelizable(ParallelScope.Children)]
[CancelAfter(60_000)]
internal sealed class InMemoryTrackerTests
{
    private static readonly byte[] Png = [0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A, 1, 2, 3, 4];

    /// <summary>What a user's evaluation function looks like: it logs its settings, a metric per threshold and a report.</summary>
    private static double EvaluateClassifier(MlflowTracker tracker, IReadOnlyList<(double Score, bool Label)> samples, double[] thresholds)
    {
        var best = 0.0;
        tracker.Run("evaluate", run =>
        {
            run.LogParam("model", "logistic");
            run.LogParam("samples", samples.Count);
            for (var step = 0; step < thresholds.Length; step++)
            {
                var correct = samples.Count(s => s.Score >= thresholds[step] == s.Label);
                var accuracy = (double)correct / samples.Count;
                run.LogMetric("accuracy", accuracy, step);
                best = Math.Max(best, accuracy);
            }

            run.SetTag("dataset", "holdout");
            run.LogDict(new Dictionary<string, object> { ["best_accuracy"] = best, ["thresholds"] = thresholds }, "report/summary.json");
        });
        return best;
    }

    [Test]
    public void A_users_evaluation_function_is_tested_against_what_it_recorded()
    {
        using var tracker = MlflowTracker.CreateInMemory(new MlflowTrackerOptions { ExperimentName = "unit" });
        (double, bool)[] samples = [(0.9, true), (0.8, true), (0.4, false), (0.6, false)];

        var best = EvaluateClassifier(tracker, samples, [0.5, 0.7, 0.95]);

        var run = tracker.Recorded.Run("evaluate");
        Assert.Multiple(() =>
        {
            Assert.That(best, Is.EqualTo(1.0));
            Assert.That(run.Status, Is.EqualTo(RunStatus.Finished));
            Assert.That(run.Info.EndTime, Is.Not.Null);
            Assert.That(run.Params, Is.EquivalentTo(new Dictionary<string, string> { ["model"] = "logistic", ["samples"] = "4" }));
            Assert.That(run.MetricHistory["accuracy"].Select(m => (m.Step, m.Value)), Is.EqualTo(new[] { (0L, 0.75), (1L, 1.0), (2L, 0.5) }));
            Assert.That(run.Metrics["accuracy"], Is.EqualTo(0.5), "the latest point is the highest step");
            Assert.That(run.Tags["dataset"], Is.EqualTo("holdout"));
            Assert.That(run.Tags["mlflow.runName"], Is.EqualTo("evaluate"));
            Assert.That(run.Tags, Does.ContainKey("mlflow.user"));
            Assert.That(run.Artifacts.Keys, Is.EqualTo(new[] { "report/summary.json" }));
            var report = JsonNode.Parse(run.ArtifactText("report/summary.json"))!.AsObject();
            Assert.That((double)report["best_accuracy"]!, Is.EqualTo(1.0));
            Assert.That(run.ExperimentId, Is.EqualTo(tracker.Recorded.Runs.Single().ExperimentId));
            Assert.That(run.ExperimentId, Is.Not.EqualTo("0"), "ExperimentName created its own experiment");
        });
    }

    /// <summary>The README's example, verbatim.</summary>
    private static void Evaluate(MlflowTracker tracker, double[] scores, bool[] labels) => tracker.Run("evaluate", run =>
    {
        run.LogParam("threshold", 0.5);
        for (var step = 0; step < scores.Length; step++)
        {
            run.LogMetric("correct", scores[step] >= 0.5 == labels[step], step);
        }

        run.LogDict(new Dictionary<string, object> { ["samples"] = scores.Length }, "report.json");
    });

    [Test]
    public void The_readme_example_works()
    {
        using var tracker = MlflowTracker.CreateInMemory();
        Evaluate(tracker, [0.9, 0.2], [true, true]);

        var run = tracker.Recorded.Run("evaluate");
        Assert.That(run.Status, Is.EqualTo(RunStatus.Finished));
        Assert.That(run.Params["threshold"], Is.EqualTo("0.5"));
        Assert.That(run.MetricHistory["correct"].Select(m => m.Value), Is.EqualTo(new[] { 1.0, 0.0 }));
        Assert.That(run.Metrics["correct"], Is.EqualTo(0.0));
        Assert.That(run.ArtifactText("report.json"), Does.Contain("\"samples\": 2"));
    }

    [Test]
    public void Recorded_shows_what_an_active_run_logged_without_an_explicit_flush()
    {
        var options = new MlflowTrackerOptions();
        options.Batching.FlushInterval = TimeSpan.FromHours(1);
        using var tracker = MlflowTracker.CreateInMemory(options);
        var run = tracker.StartRun("live");
        for (var i = 0; i < 5; i++)
        {
            run.LogMetric("loss", 1.0 / (i + 1), step: i);
        }

        var recorded = tracker.Recorded.Run("live");
        Assert.That(recorded.Status, Is.EqualTo(RunStatus.Running));
        Assert.That(recorded.MetricHistory["loss"].Select(m => m.Step), Is.EqualTo(new long[] { 0, 1, 2, 3, 4 }));
        Assert.That(recorded.Metrics["loss"], Is.EqualTo(0.2));
        Assert.That(run.DataLocation, Is.EqualTo(RunDataLocation.LocalStore));
    }

    [Test]
    public async Task Validation_errors_are_the_same_as_on_a_real_tracker()
    {
        using var dir = new OfflineFallbackTests.Dir();
        var strict = new MlflowTrackerOptions { OverlongValuePolicy = OverlongValuePolicy.Throw };
        await using var real = MlflowTracker.Create(new MlflowTrackerOptions { TrackingUri = dir.Path, OverlongValuePolicy = OverlongValuePolicy.Throw });
        await using var memory = MlflowTracker.CreateInMemory(strict);
        var realRun = real.StartRun("r");
        var memoryRun = memory.StartRun("r");
        realRun.LogParam("fixed", "1");
        memoryRun.LogParam("fixed", "1");

        var calls = new List<(string Label, Action<MlflowTracker, ActiveRun> Call)>();
        foreach (var key in KeyRuleTests.MlflowRefused.Concat(KeyRuleTests.NotStorable))
        {
            calls.Add(($"metric '{key}'", (_, r) => r.LogMetric(key, 1.0)));
            calls.Add(($"param '{key}'", (_, r) => r.LogParam(key, "v")));
            calls.Add(($"tag '{key}'", (_, r) => r.SetTag(key, "v")));
            calls.Add(($"delete tag '{key}'", (_, r) => r.DeleteTag(key)));
        }

        foreach (var path in new[] { "../x.txt", "/abs.txt", "a\\b.txt", "a:b.txt", "con.txt", "a/./b.txt", "" })
        {
            calls.Add(($"text at '{path}'", (_, r) => r.LogText("t", path)));
        }

        calls.Add(("changed param", (_, r) => r.LogParam("fixed", "2")));
        calls.Add(("over-long tag", (_, r) => r.SetTag("long", new string('x', MlflowLimits.MaxTagValueLength + 1))));
        calls.Add(("not a png", (_, r) => r.LogImage([1, 2, 3], "plot.png")));
        calls.Add(("start tags", (t, _) => t.StartRun("x", [new("con", "v")]).Dispose()));

        Assert.Multiple(() =>
        {
            foreach (var (label, call) in calls)
            {
                var expected = Catch(() => call(real, realRun));
                var actual = Catch(() => call(memory, memoryRun));
                Assert.That(expected, Is.Not.Null, label + " is refused by the real tracker");
                Assert.That(actual?.GetType(), Is.EqualTo(expected?.GetType()), label);
                Assert.That(actual?.Message, Is.EqualTo(expected?.Message), label);
            }
        });

        memoryRun.End();
        var recorded = memory.Recorded.Run("r");
        Assert.That(recorded.Params.Keys, Is.EqualTo(new[] { "fixed" }), "refused params are not recorded");
        Assert.That(recorded.Metrics, Is.Empty);
        Assert.That(recorded.Artifacts, Is.Empty);
        Assert.That(recorded.Tags.Keys.Where(k => !k.StartsWith("mlflow.", StringComparison.Ordinal)), Is.Empty);
        Assert.That(memory.Recorded.Runs.Select(r => r.RunName), Is.EqualTo(new[] { "r" }), "a run with a refused start tag is not created");
    }

    [Test]
    public async Task Child_runs_and_end_statuses_are_recorded()
    {
        await using var tracker = MlflowTracker.CreateInMemory();
        tracker.Run("sweep", parent =>
        {
            using (var child = parent.StartChildRun("fold-1"))
            {
                child.LogMetric("auc", 0.8);
            }

            parent.StartChildRun("fold-2").End(RunStatus.Killed);
        });

        var thrown = Assert.Throws<InvalidDataException>(() => tracker.Run("broken", _ => throw new InvalidDataException("bad input")));
        Assert.That(thrown!.Message, Is.EqualTo("bad input"), "the user's exception is rethrown");
        await AssertThrowsAsync<TimeoutException>(() => tracker.RunAsync("broken-async", async run =>
        {
            await Task.Yield();
            run.LogMetric("partial", 1);
            throw new TimeoutException();
        }));
        tracker.StartRun("manual").Fail(new InvalidOperationException("x"));
        var open = tracker.StartRun("open");

        var recorded = tracker.Recorded;
        var sweep = recorded.Run("sweep");
        Assert.Multiple(() =>
        {
            Assert.That(sweep.Status, Is.EqualTo(RunStatus.Finished));
            Assert.That(sweep.ParentRunId, Is.Null);
            Assert.That(sweep.Children.Select(c => (c.RunName, c.Status)), Is.EqualTo(new[] { ("fold-1", RunStatus.Finished), ("fold-2", RunStatus.Killed) }));
            Assert.That(sweep.Children.Select(c => c.ParentRunId), Is.All.EqualTo(sweep.RunId));
            Assert.That(sweep.Children[0].Metrics["auc"], Is.EqualTo(0.8));
            Assert.That(sweep.Children.Select(c => c.ExperimentId), Is.All.EqualTo(sweep.ExperimentId));
            Assert.That(recorded.Run("broken").Status, Is.EqualTo(RunStatus.Failed));
            Assert.That(recorded.Run("broken-async").Status, Is.EqualTo(RunStatus.Failed));
            Assert.That(recorded.Run("broken-async").Metrics["partial"], Is.EqualTo(1), "what a failed run logged before it threw is kept");
            Assert.That(recorded.Run("manual").Status, Is.EqualTo(RunStatus.Failed));
            Assert.That(recorded.Run("open").Status, Is.EqualTo(RunStatus.Running));
            Assert.That(recorded.TopLevelRuns.Select(r => r.RunName), Is.EqualTo(new[] { "sweep", "broken", "broken-async", "manual", "open" }));
            Assert.That(recorded.Runs, Has.Count.EqualTo(7));
        });

        await tracker.DisposeAsync();
        Assert.That(tracker.Recorded.Run("open").Status, Is.EqualTo(RunStatus.Finished), "disposing the tracker ends active runs, and the recording stays readable");
        Assert.That(open.Status, Is.EqualTo(RunStatus.Finished));
        var missing = Assert.Throws<InvalidOperationException>(() => tracker.Recorded.Run("nope"));
        Assert.That(missing!.Message, Does.Contain("'sweep'"));
    }

    [Test]
    public void A_reopened_run_keeps_its_data_and_ends_again()
    {
        using var tracker = MlflowTracker.CreateInMemory();
        string runId;
        using (var run = tracker.StartRun("train"))
        {
            run.LogMetric("loss", 0.5, step: 0);
            runId = run.RunId;
        }

        using (var again = tracker.ResumeRun(runId))
        {
            Assert.That(tracker.Recorded.Run("train").Status, Is.EqualTo(RunStatus.Running));
            again.LogMetric("loss", 0.25, step: 1);
        }

        var recorded = tracker.Recorded.Run("train");
        Assert.That(recorded.Status, Is.EqualTo(RunStatus.Finished));
        Assert.That(recorded.MetricHistory["loss"].Select(m => m.Value), Is.EqualTo(new[] { 0.5, 0.25 }));
    }

    [Test]
    public async Task Artifacts_round_trip_through_the_run_and_the_recording()
    {
        using var dir = new OfflineFallbackTests.Dir();
        Directory.CreateDirectory(Path.Combine(dir.Path, "plots", "sub"));
        var localFile = Path.Combine(dir.Path, "notes.md");
        await File.WriteAllTextAsync(localFile, "# notes");
        await File.WriteAllBytesAsync(Path.Combine(dir.Path, "plots", "sub", "a.bin"), [7, 8, 9]);

        await using var tracker = MlflowTracker.CreateInMemory();
        var run = tracker.StartRun("artifacts");
        run.LogText("héllo", "out/summary.txt");
        run.LogText("replaced", "out/twice.txt");
        run.LogText("second", "out/twice.txt");
        run.LogDict(new Dictionary<string, object> { ["k"] = 1 }, "out/config.json");
        run.LogImage(Png, "plots/roc.png");
        await run.LogImageAsync(new MemoryStream(Png), "plots/pr.png");
        run.LogArtifact(localFile, "docs");
        run.LogArtifacts(Path.Combine(dir.Path, "plots"), "raw");

        Assert.Multiple(() =>
        {
            Assert.That(run.LoadText("out/summary.txt"), Is.EqualTo("héllo"));
            Assert.That(run.LoadText("out/twice.txt"), Is.EqualTo("second"));
            Assert.That((int)run.LoadDict("out/config.json")["k"]!, Is.EqualTo(1));
            Assert.That(run.ListArtifacts().Select(e => (e.Path, e.IsDir)), Is.EqualTo(new[] { ("docs", true), ("out", true), ("plots", true), ("raw", true) }));
            Assert.That(run.ListArtifacts("out").Select(e => (e.Path, e.FileSize)), Is.EqualTo(new[] { ("out/config.json", (long?)Encoding.UTF8.GetByteCount(run.LoadText("out/config.json"))), ("out/summary.txt", 6L), ("out/twice.txt", 6L) }));
            Assert.Throws<FileNotFoundException>(() => run.LoadText("out/missing.txt"));
        });

        run.End();
        var recorded = tracker.Recorded.Run("artifacts");
        Assert.Multiple(() =>
        {
            Assert.That(recorded.Artifacts.Keys, Is.EqualTo(new[] { "docs/notes.md", "out/config.json", "out/summary.txt", "out/twice.txt", "plots/pr.png", "plots/roc.png", "raw/sub/a.bin" }));
            Assert.That(recorded.Artifacts["plots/roc.png"], Is.EqualTo(Png));
            Assert.That(recorded.Artifacts["raw/sub/a.bin"], Is.EqualTo(new byte[] { 7, 8, 9 }));
            Assert.That(recorded.ArtifactText("docs/notes.md"), Is.EqualTo("# notes"));
            Assert.That(run.LoadText("out/summary.txt"), Is.EqualTo("héllo"), "artifacts stay readable after the run ended");
            Assert.Throws<KeyNotFoundException>(() => recorded.ArtifactText("nope.txt"));
        });
    }

    [Test]
    public void The_registry_works_in_memory()
    {
        using var tracker = MlflowTracker.CreateInMemory();
        string runId;
        using (var run = tracker.StartRun("train"))
        {
            run.LogText("weights", "model/weights.txt");
            runId = run.RunId;
        }

        var v1 = tracker.Registry.RegisterModel(runId, "model", "churn");
        var v2 = tracker.Registry.RegisterModel(runId, "model", "churn");
        tracker.Registry.SetAlias("churn", "champion", v1.Version);

        Assert.Multiple(() =>
        {
            Assert.That((v1.Version, v2.Version), Is.EqualTo(("1", "2")));
            Assert.That(v1.Status, Is.EqualTo(ModelVersionStatus.Ready));
            Assert.That(v1.RunId, Is.EqualTo(runId));
            Assert.That(v1.Source, Does.StartWith("memory:/").And.EndWith("/" + runId + "/artifacts/model"));
            Assert.That(tracker.Registry.GetVersionByAlias("churn", "champion").Version, Is.EqualTo("1"));
            Assert.That(tracker.Registry.ResolveModelUri("models:/churn@champion").Version, Is.EqualTo("1"));
            Assert.That(tracker.Registry.GetRegisteredModel("churn").Aliases, Is.EqualTo(new[] { new RegisteredModelAlias("champion", "1") }));
            using var dir = new OfflineFallbackTests.Dir();
            var folder = tracker.Registry.DownloadModel("models:/churn@champion", Path.Combine(dir.Path, "champion"));
            Assert.That(File.ReadAllText(Path.Combine(folder, "weights.txt")), Is.EqualTo("weights"));
            Assert.That(Directory.GetFileSystemEntries(folder), Has.Length.EqualTo(1));
            var missing = Assert.Throws<MlflowException>(() => tracker.Registry.GetRegisteredModel("other"));
            Assert.That(missing!.ErrorCode, Is.EqualTo(MlflowErrorCode.ResourceDoesNotExist));
        });
    }

    [Test]
    public async Task Nothing_is_written_to_disk()
    {
        using var dir = new OfflineFallbackTests.Dir();
        var mlruns = Path.Combine(Environment.CurrentDirectory, "mlruns");
        var mlrunsBefore = Directory.Exists(mlruns);
        var options = new MlflowTrackerOptions { TrackingUri = Path.Combine(dir.Path, "store"), ExperimentName = "disk" };
        options.Offline.Directory = Path.Combine(dir.Path, "offline");
        await using (var tracker = MlflowTracker.CreateInMemory(options))
        {
            Assert.That(tracker.Destination, Is.EqualTo("in-memory store"));
            Assert.That(tracker.OfflineDirectory, Is.Null);
            tracker.Run("everything", run =>
            {
                run.LogParam("p", 1);
                run.LogMetric("m", 2, step: 3);
                run.SetTag("t", "v");
                run.LogText("text", "a/b.txt");
                run.LogImage(Png, "p.png");
                run.StartChildRun("child").Dispose();
            });
            tracker.Registry.RegisterModel(tracker.Recorded.Run("everything").RunId, "a", "m");
            Assert.That(tracker.Recorded.Runs, Has.Count.EqualTo(2));
        }

        Assert.That(Directory.Exists(dir.Path), Is.False, "neither the (ignored) tracking URI nor the offline folder was created");
        Assert.That(Directory.Exists(mlruns), Is.EqualTo(mlrunsBefore), "no ./mlruns");
    }

    [Test]
    public async Task Recorded_is_only_for_the_in_memory_tracker()
    {
        using var dir = new OfflineFallbackTests.Dir();
        await using var real = MlflowTracker.Create(new MlflowTrackerOptions { TrackingUri = dir.Path });
        var ex = Assert.Throws<InvalidOperationException>(() => _ = real.Recorded);
        Assert.That(ex!.Message, Does.Contain("CreateInMemory"));
        var spill = new MlflowTrackerOptions();
        spill.Batching.QueueFullPolicy = QueueFullPolicy.SpillToLocalStore;
        Assert.Throws<NotSupportedException>(() => MlflowTracker.CreateInMemory(spill));
    }

    private static Exception? Catch(Action call)
    {
        try
        {
            call();
            return null;
        }
#pragma warning disable CA1031 // the test compares whatever each tracker throws
        catch (Exception ex)
#pragma warning restore CA1031
        {
            return ex;
        }
    }

    private static async Task AssertThrowsAsync<T>(Func<Task> call)
        where T : Exception
    {
        try
        {
            await call();
        }
        catch (T)
        {
            return;
        }

        Assert.Fail($"{typeof(T).Name} was not thrown");
    }
}
