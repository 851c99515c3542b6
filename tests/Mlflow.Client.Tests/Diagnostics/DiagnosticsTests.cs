using System.Diagnostics;
using System.Text;
using System.Text.Json.Nodes;
using Mlflow.Client.Tests.Infrastructure;
using Mlflow.Client.Tests.Offline;
using Mlflow.Client.Tests.Sync;
using Mlflow.Client.Tests.Tracking;
using NUnit.Framework;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;
using WireMock.RequestBuilders;
using WireMock.ResponseBuilders;
using static Mlflow.Client.Tests.Resilience.ResilienceTestKit;

namespace Mlflow.Client.Tests.Diagnostics;

/// <summary>
/// The SDK's traces and metrics as an OpenTelemetry user collects them (in-memory exporters, the two names of
/// <see cref="MlflowDiagnostics"/>), against WireMock.Net and the fake server on 127.0.0.1. Counters are process-wide,
/// so the tests compare deltas and run alone.
/// </summary>
[TestFixture]
[NonParallelizable]
[CancelAfter(120_000)]
internal sealed class DiagnosticsTests
{
    private const string Password = "pw-Zq81-secret";
    private const string User = "diag-user";
    private const string ExperimentByName = "/api/2.0/mlflow/experiments/get-by-name";
    private const string LogBatch = "/api/2.0/mlflow/runs/log-batch";
    private const string RunId = "diag-run-1";

    private static readonly string[] Counters =
    [
        "mlflow.client.entries.queued", "mlflow.client.entries.sent", "mlflow.client.entries.rejected",
        "mlflow.client.entries.spilled", "mlflow.client.requests.retried",
    ];

    [Test]
    public async Task A_tracker_logging_to_a_server_gives_http_and_batch_spans_without_secrets_and_counts_what_it_did()
    {
        using var server = FixtureServer.Start();
        var s = server.Server;
        server.Sequence(ExperimentByName, Status(503), Ok("""{"experiment":{"experiment_id":"7","name":"diag","lifecycle_stage":"active"}}"""));
        var runInfo = $$"""{"run_id":"{{RunId}}","run_uuid":"{{RunId}}","experiment_id":"7","status":"RUNNING","lifecycle_stage":"active","artifact_uri":"mlflow-artifacts:/7/{{RunId}}/artifacts"}""";
        s.Given(Request.Create().WithPath("/api/2.0/mlflow/runs/create").UsingPost()).RespondWith(Ok("""{"run":{"info":""" + runInfo + ""","data":{}}}"""));
        s.Given(Request.Create().WithPath("/api/2.0/mlflow/runs/update").UsingPost()).RespondWith(Ok("""{"run_info":""" + runInfo + "}"));
        s.Given(Request.Create().WithPath(LogBatch).UsingPost()).RespondWith(Ok("{}"));
        s.Given(Request.Create().WithPath("/api/2.0/mlflow/runs/get").UsingGet()).RespondWith(Status(404, """{"error_code":"RESOURCE_DOES_NOT_EXIST","message":"no run"}"""));
        using var dir = new OfflineFallbackTests.Dir();
        var (activities, metrics, tracing, meters) = Collect();
        using var _t = tracing;
        using var _m = meters;
        var before = Read(meters, metrics);

        var options = new MlflowTrackerOptions
        {
            TrackingUri = server.Url,
            ExperimentName = "diag",
            Client = FastOptions(server.Url),
            Offline = new MlflowOfflineOptions { Directory = dir.Path },
        };
        options.Client.Username = User;
        options.Client.Password = Password;
        options.Batching.FlushInterval = TimeSpan.FromHours(1);
        MlflowException? missing;
        await using (var tracker = MlflowTracker.Create(options))
        {
            await using var run = await tracker.StartRunAsync("diag");
            for (var i = 0; i < 5; i++)
            {
                run.LogMetric("loss", 1.0 / (i + 1), i);
            }

            run.LogParam("lr", "0.1");
            await run.FlushAsync();
        }

        using (var client = new MlflowClient(options.Client))
        {
            missing = Assert.ThrowsAsync<MlflowException>(() => client.GetRunAsync("nope"));
        }

        var after = Read(meters, metrics);
        Assert.That(after.Sums.Keys, Is.SupersetOf(Counters));
        var port = new Uri(server.Url).Port;
        var http = activities.Where(a => a.OperationName == "mlflow.http" && Equals(a.GetTagItem("server.port"), port)).ToList();

        // One span per HTTP request (a retried one included once), with the path template, method, status and attempts.
        var byName = http.Single(a => (string?)a.GetTagItem("url.template") == ExperimentByName);
        Assert.That(byName.GetTagItem("http.request.method"), Is.EqualTo("GET"));
        Assert.That(byName.GetTagItem("http.response.status_code"), Is.EqualTo(200));
        Assert.That(byName.GetTagItem("mlflow.attempts"), Is.EqualTo(2), "the 503 and the success");
        Assert.That(byName.GetTagItem("server.address"), Is.EqualTo("127.0.0.1"));
        var batchRequests = http.Where(a => (string?)a.GetTagItem("url.template") == LogBatch).ToList();
        Assert.That(batchRequests, Is.Not.Empty);
        Assert.That(batchRequests.Select(a => a.GetTagItem("http.response.status_code")), Is.All.EqualTo(200));
        var rejected = http.Single(a => (string?)a.GetTagItem("url.template") == "/api/2.0/mlflow/runs/get");
        Assert.That(rejected.GetTagItem("http.response.status_code"), Is.EqualTo(404));
        Assert.That(rejected.GetTagItem("mlflow.failure_kind"), Is.EqualTo(missing!.Kind.ToString()));
        Assert.That(rejected.Status, Is.EqualTo(ActivityStatusCode.Error));

        // A batch span per log-batch request, with the run and the entry count that went over the wire.
        var sentEntries = server.Requests.Where(r => r.RequestMessage.Path == LogBatch).Select(r => EntriesIn(FixtureServer.BodyJson(r)!)).ToList();
        var batches = activities.Where(a => a.OperationName == "mlflow.batch.send" && (string?)a.GetTagItem("mlflow.run_id") == RunId).ToList();
        Assert.That(batches.Select(b => (int)b.GetTagItem("mlflow.entries")!), Is.EquivalentTo(sentEntries));
        Assert.That(sentEntries.Sum(), Is.GreaterThanOrEqualTo(6), "five points and a param");
        Assert.That(batches.Select(b => b.GetTagItem("mlflow.outcome")), Is.All.EqualTo("Delivered"));

        // Never a secret: no password, no basic-auth value, no query string in any span.
        var basic = Convert.ToBase64String(Encoding.UTF8.GetBytes(User + ":" + Password));
        foreach (var activity in activities)
        {
            foreach (var text in activity.TagObjects.Select(t => t.Key + "=" + t.Value).Append(activity.DisplayName).Append(activity.StatusDescription ?? ""))
            {
                Assert.That(text, Does.Not.Contain(Password).And.Not.Contain(basic).And.Not.Contain("Basic ").And.Not.Contain("experiment_name="), activity.OperationName);
            }
        }

        // The counters move by what this tracker did (the meter is created on the SDK's first use: zero before); the histograms saw every request and batch.
        var sent = sentEntries.Sum();
        Assert.That(after.Sums["mlflow.client.entries.sent"] - before.Sums.GetValueOrDefault("mlflow.client.entries.sent"), Is.EqualTo(sent));
        Assert.That(after.Sums["mlflow.client.entries.queued"] - before.Sums.GetValueOrDefault("mlflow.client.entries.queued"), Is.EqualTo(sent));
        Assert.That(after.Sums["mlflow.client.entries.rejected"] - before.Sums.GetValueOrDefault("mlflow.client.entries.rejected"), Is.Zero);
        Assert.That(after.Sums["mlflow.client.requests.retried"] - before.Sums.GetValueOrDefault("mlflow.client.requests.retried"), Is.EqualTo(1), "the 503 of get-by-name");
        Assert.That(after.HistogramSums["mlflow.client.batch.size"] - before.HistogramSums.GetValueOrDefault("mlflow.client.batch.size"), Is.EqualTo(sent));
        Assert.That(after.HistogramCounts["mlflow.client.batch.size"] - before.HistogramCounts.GetValueOrDefault("mlflow.client.batch.size"), Is.EqualTo(sentEntries.Count));
        Assert.That(after.HistogramCounts["mlflow.client.batch.duration"] - before.HistogramCounts.GetValueOrDefault("mlflow.client.batch.duration"), Is.EqualTo(sentEntries.Count));
        Assert.That(after.HistogramCounts["mlflow.client.request.duration"] - before.HistogramCounts.GetValueOrDefault("mlflow.client.request.duration"), Is.EqualTo(server.Requests.Count - 1), "one per request, its retry included");
        Assert.That(after.Gauges, Does.ContainKey("mlflow.client.queue.depth"));
        Assert.That(after.Sums, Does.ContainKey("mlflow.client.entries.offline"));
    }

    [Test]
    public async Task An_offline_drain_gives_a_drain_span_and_the_offline_entries_count_until_they_are_sent()
    {
        using var dir = new OfflineFallbackTests.Dir();
        using var server = new FakeMlflowServer();
        var (activities, metrics, tracing, meters) = Collect();
        using var _t = tracing;
        using var _m = meters;
        var before = Read(meters, metrics);
        await using var tracker = MlflowTracker.Create(OfflineFallbackTests.Options(server.Url, dir.Path));
        var run = tracker.StartRun("drained");
        server.StopListening();
        for (var i = 0; i < 10; i++)
        {
            run.LogMetric("m", i, i);
        }

        await run.FlushAsync();
        Assert.That(TrackerTestSupport.WaitUntil(() => run.IsOffline, 20), Is.True, "the run noticed the outage");
        var offline = Read(meters, metrics);
        Assert.That(offline.Sums["mlflow.client.entries.offline"] - before.Sums.GetValueOrDefault("mlflow.client.entries.offline"), Is.EqualTo(10));

        server.StartListening();
        var remote = server.SingleRun();
        Assert.That(TrackerTestSupport.WaitUntil(() => OfflineFallbackTests.Points(server, remote, "m").Count == 10 && !run.IsOffline, 30), Is.True, "drained");
        Assert.That(TrackerTestSupport.WaitUntil(() => Read(meters, metrics).Sums["mlflow.client.entries.offline"] == before.Sums.GetValueOrDefault("mlflow.client.entries.offline"), 10), Is.True, "the drained entries are no longer offline");
        var after = Read(meters, metrics);
        Assert.That(after.Sums["mlflow.client.entries.sent"] - before.Sums.GetValueOrDefault("mlflow.client.entries.sent"), Is.EqualTo(10));

        var drains = activities.Where(a => a.OperationName == "mlflow.offline.drain" && (string?)a.GetTagItem("mlflow.run_id") == run.RunId).ToList();
        Assert.That(drains.Where(d => (string?)d.GetTagItem("mlflow.outcome") == "Drained").Sum(d => (long)d.GetTagItem("mlflow.entries")!), Is.EqualTo(10));
        run.Dispose();
    }

    private static int EntriesIn(JsonNode body)
        => new[] { "metrics", "params", "tags" }.Sum(k => body[k] is JsonArray a ? a.Count : 0);

    private static (List<Activity> Activities, List<MetricSnapshot> Metrics, TracerProvider Tracing, MeterProvider Meters) Collect()
    {
        var activities = new List<Activity>();
        var metrics = new List<MetricSnapshot>();
        var tracing = Sdk.CreateTracerProviderBuilder().AddSource(MlflowDiagnostics.ActivitySourceName).AddInMemoryExporter(activities).Build()!;
        var meters = Sdk.CreateMeterProviderBuilder().AddMeter(MlflowDiagnostics.MeterName).AddInMemoryExporter(metrics).Build()!;
        return (activities, metrics, tracing, meters);
    }

    private sealed record Reading(Dictionary<string, long> Sums, Dictionary<string, long> Gauges, Dictionary<string, double> HistogramSums, Dictionary<string, long> HistogramCounts);

    /// <summary>Collects now and returns each instrument's value summed over its points (cumulative).</summary>
    private static Reading Read(MeterProvider meters, List<MetricSnapshot> metrics)
    {
        lock (metrics)
        {
            metrics.Clear();
            Assert.That(meters.ForceFlush(10_000), Is.True);
            var reading = new Reading([], [], [], []);
            foreach (var metric in metrics)
            {
                foreach (var point in metric.MetricPoints)
                {
                    switch (metric.MetricType)
                    {
                        case MetricType.LongSum or MetricType.LongSumNonMonotonic:
                            reading.Sums[metric.Name] = reading.Sums.GetValueOrDefault(metric.Name) + point.GetSumLong();
                            break;
                        case MetricType.LongGauge:
                            reading.Gauges[metric.Name] = reading.Gauges.GetValueOrDefault(metric.Name) + point.GetGaugeLastValueLong();
                            break;
                        case MetricType.Histogram:
                            reading.HistogramSums[metric.Name] = reading.HistogramSums.GetValueOrDefault(metric.Name) + point.GetHistogramSum();
                            reading.HistogramCounts[metric.Name] = reading.HistogramCounts.GetValueOrDefault(metric.Name) + point.GetHistogramCount();
                            break;
                    }
                }
            }

            return reading;
        }
    }
}
