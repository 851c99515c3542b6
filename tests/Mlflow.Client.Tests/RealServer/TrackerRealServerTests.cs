using System.Diagnostics;
using System.Globalization;
using NUnit.Framework;

namespace Mlflow.Client.Tests.RealServer;

/// <summary>
/// The fluent tracker against a real MLflow server (sqlite- or file-backed), when <c>MLFLOW_TEST_TRACKING_URI</c> is
/// set. <c>MLFLOW_TEST_POINTS</c> sets how many metric points the bulk test logs (default 40,000; the issue's
/// million-point check is <c>MLFLOW_TEST_POINTS=1000000</c>).
/// </summary>
[TestFixture]
[Category("RealServer")]
[NonParallelizable]
public class TrackerRealServerTests
{
    private string _uri = null!;
    private string _experiment = null!;

    [SetUp]
    public void SetUp()
    {
        var uri = RealServer.RealServerEnvironment.RequireTrackingUri();

        _uri = uri;
        _experiment = "dotnet-tracker-" + Guid.NewGuid().ToString("N")[..12];
    }

    private MlflowTracker NewTracker()
    {
        var options = new MlflowTrackerOptions { TrackingUri = _uri, ExperimentName = _experiment };
        options.Batching.ShutdownTimeout = TimeSpan.FromMinutes(10);
        return MlflowTracker.Create(options);
    }

    [Test]
    [CancelAfter(1_800_000)]
    public async Task ManyPoints_ReachTheServer_ExactlyOnce_InOrderPerKey()
    {
        var points = int.Parse(Environment.GetEnvironmentVariable("MLFLOW_TEST_POINTS") ?? "40000", CultureInfo.InvariantCulture);
        var keys = new[] { "loss", "accuracy", "val/loss", "lr" };
        var perKey = points / keys.Length;
        string runId;
        TimeSpan loop;
        await using (var tracker = NewTracker())
        {
            await using var run = await tracker.StartRunAsync("bulk");
            runId = run.RunId;
            run.LogParam("points", points);
            run.SetTag("kind", "bulk");
            var sw = Stopwatch.StartNew();
            for (var i = 0; i < perKey; i++)
            {
                foreach (var key in keys)
                {
                    run.LogMetric(key, i + (key.Length / 100.0), step: i);
                }
            }

            loop = sw.Elapsed;
            await run.FlushAsync();
            TestContext.Out.WriteLine($"{perKey * keys.Length:N0} LogMetric calls returned in {loop.TotalMilliseconds:F0} ms; delivered after {sw.Elapsed.TotalSeconds:F1} s; {tracker.Counters}");
            Assert.That(tracker.Counters.Failed, Is.Zero);
        }

        using var client = new MlflowClient(new MlflowClientOptions { TrackingUri = _uri, RequestTimeout = TimeSpan.FromSeconds(120) });
        var stored = await client.GetRunAsync(runId);
        Assert.That(stored.Info.Status, Is.EqualTo(RunStatus.Finished));
        Assert.That(stored.Data.Params, Does.Contain(new Param("points", points.ToString(CultureInfo.InvariantCulture))));
        Assert.That(stored.Data.Tags, Does.Contain(new Tag("kind", "bulk")));
        foreach (var key in keys)
        {
            var history = await client.GetMetricHistoryAsync(runId, key);
            Assert.That(history, Has.Count.EqualTo(perKey), key);
            // The server returns points ordered by its own rules; per key, every step must be there exactly once,
            // with its value, and the timestamps (stamped at call time) must not decrease along the steps.
            var bySteps = history.OrderBy(m => m.Step).ToList();
            Assert.That(bySteps.Select(m => m.Step), Is.EqualTo(Enumerable.Range(0, perKey).Select(i => (long)i)), key);
            Assert.That(bySteps.Select(m => m.Value), Is.EqualTo(Enumerable.Range(0, perKey).Select(i => i + (key.Length / 100.0))), key);
            for (var i = 1; i < bySteps.Count; i++)
            {
                Assert.That(bySteps[i].Timestamp, Is.GreaterThanOrEqualTo(bySteps[i - 1].Timestamp - 20), key);
            }
        }
    }

    [Test]
    public async Task SystemTags_ChildRuns_NonFiniteValues_AndEndStatuses()
    {
        string parentId;
        string childId;
        string failedId = "";
        await using (var tracker = NewTracker())
        {
            await using (var parent = await tracker.StartRunAsync("parent", [new("team", "dotnet")]))
            {
                parentId = parent.RunId;
                using (var child = parent.StartChildRun("child"))
                {
                    childId = child.RunId;
                    child.LogMetric("nonfinite", double.NaN, step: 0);
                    child.LogMetric("nonfinite", double.PositiveInfinity, step: 1);
                    child.LogMetric("nonfinite", double.NegativeInfinity, step: 2);
                    child.LogParam("flag", true);
                }
            }

            var boom = new InvalidOperationException("boom");
            var thrown = Assert.ThrowsAsync<InvalidOperationException>(() => tracker.RunAsync("fails", run =>
            {
                failedId = run.RunId;
                run.LogMetric("m", 1);
                throw boom;
            }));
            Assert.That(thrown, Is.SameAs(boom));
        }

        using var client = new MlflowClient(new MlflowClientOptions { TrackingUri = _uri });
        var parentRun = await client.GetRunAsync(parentId);
        var tags = parentRun.Data.Tags.ToDictionary(t => t.Key, t => t.Value);
        Assert.That(parentRun.Info.Status, Is.EqualTo(RunStatus.Finished));
        Assert.That(parentRun.Info.RunName, Is.EqualTo("parent"));
        Assert.That(tags["mlflow.runName"], Is.EqualTo("parent"));
        Assert.That(tags["mlflow.source.type"], Is.EqualTo("LOCAL"));
        Assert.That(tags, Does.ContainKey("mlflow.user").And.ContainKey("mlflow.source.name"));
        Assert.That(tags["team"], Is.EqualTo("dotnet"));

        var childRun = await client.GetRunAsync(childId);
        Assert.That(childRun.Data.Tags, Does.Contain(new Tag("mlflow.parentRunId", parentId)));
        Assert.That(childRun.Data.Params, Does.Contain(new Param("flag", "True")));
        var history = (await client.GetMetricHistoryAsync(childId, "nonfinite")).OrderBy(m => m.Step).ToList();
        Assert.That(double.IsNaN(history[0].Value), Is.True);
        // sqlite-backed servers clamp ±Infinity to ±double.MaxValue; file-backed ones keep it.
        Assert.That(history[1].Value, Is.EqualTo(double.PositiveInfinity).Or.EqualTo(double.MaxValue));
        Assert.That(history[2].Value, Is.EqualTo(double.NegativeInfinity).Or.EqualTo(double.MinValue));

        Assert.That((await client.GetRunAsync(failedId)).Info.Status, Is.EqualTo(RunStatus.Failed));
    }
}
