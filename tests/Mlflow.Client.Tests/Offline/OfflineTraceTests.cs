using System.Text.Json.Nodes;
using Mlflow.Client.Evaluation.Llm;
using Mlflow.Client.FileStore;
using Mlflow.Client.Tests.Sync;
using Mlflow.Client.Tracing;
using NUnit.Framework;

namespace Mlflow.Client.Tests.Offline;

/// <summary>
/// Traces survive a server that cannot take them, against a stateful fake MLflow 3 server on 127.0.0.1: a trace of a run
/// that is offline, or that the server keeps failing after the retries, goes into the run's offline copy beside the run
/// (with its assessments) and the drain sends it once the server answers; only a refusal is counted as failed; a trace
/// with no run to wait with is counted as lost.
/// </summary>
[TestFixture]
[CancelAfter(120_000)]
internal sealed class OfflineTraceTests // not parallel: a tracer listens to the whole process, so it would log another test's spans
{
    private const string StartTrace = "/api/3.0/mlflow/traces";
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(30);

    private static FakeMlflowServer Mlflow3() => new() { Version = "3.11.1" };

    /// <summary>Waits (bounded) until the condition holds under the server's lock.</summary>
    private static async Task<bool> EventuallyAsync(FakeMlflowServer server, Func<bool> condition)
    {
        for (var i = 0; i < 300; i++)
        {
            lock (server.Runs)
            {
                if (condition())
                {
                    return true;
                }
            }

            await Task.Delay(100);
        }

        return false;
    }

    private static EvaluationDataset Capitals() => EvaluationDataset.FromRecords(
    [
        new EvaluationRecord { Inputs = new Dictionary<string, JsonNode?> { ["question"] = "France?" }, Expectations = new Dictionary<string, JsonNode?> { ["expected_response"] = "Paris" } },
        new EvaluationRecord { Inputs = new Dictionary<string, JsonNode?> { ["question"] = "Italy?" }, Expectations = new Dictionary<string, JsonNode?> { ["expected_response"] = "Rome" } },
    ]);

    [Test]
    public async Task An_evaluation_on_a_run_started_offline_keeps_its_traces_in_the_runs_copy_and_the_drain_sends_them_once()
    {
        using var dir = new OfflineFallbackTests.Dir();
        using var server = Mlflow3();
        server.StopListening();
        await using var tracker = MlflowTracker.Create(OfflineFallbackTests.Options(server.Url, dir.Path));
        var run = await tracker.StartRunAsync("eval");
        Assert.That(run.IsOffline, Is.True);

        var result = await run.EvaluateAsync(Capitals(), (inputs, _) => Task.FromResult<Prediction>("Paris"), [Scorers.ExactMatch()]);

        // Kept beside the local run, with the feedback and the expectation, linked to the local run.
        Assert.That(result.TracesLogged, Is.True);
        var traceIds = result.Rows.Select(r => r.TraceId!).ToList();
        using (var local = new LocalFileStore(dir.Path))
        {
            Assert.That(local.ListRunTraceIds(run.RunId), Is.EquivalentTo(traceIds));
            var info = local.GetTraceInfo(traceIds[0]);
            Assert.That(info.Metadata["mlflow.sourceRun"], Is.EqualTo(run.RunId));
            Assert.That(info.Assessments.Select(a => a.Name), Is.EquivalentTo(new[] { "exact_match", "expected_response" }));
            Assert.That(info.Assessments.Select(a => a.RunId), Is.All.EqualTo(run.RunId));
        }

        server.StartListening();
        await run.DisposeAsync();

        // The drain created the server run and pushed both traces with their assessments, linked to the server run.
        Assert.That(await EventuallyAsync(server, () => traceIds.All(server.Traces.ContainsKey) && traceIds.All(t => server.Assessments.GetValueOrDefault(t)?.Count == 2)), Is.True);
        var serverRun = server.RunBySource(run.RunId);
        lock (server.Runs)
        {
            Assert.That(traceIds.Select(t => (string?)server.Traces[t]["trace_metadata"]!["mlflow.sourceRun"]), Is.All.EqualTo(serverRun.RunId));
            Assert.That(server.Assessments[traceIds[1]].Select(a => (string?)a["metadata"]!["mlflow.assessment.sourceRunId"]), Is.All.EqualTo(serverRun.RunId));
        }

        Assert.That(server.Count(StartTrace), Is.EqualTo(2), "each trace sent once");
    }

    [Test]
    public async Task A_trace_the_server_keeps_failing_is_retried_then_kept_with_its_run_and_sent_by_the_drain()
    {
        using var dir = new OfflineFallbackTests.Dir();
        using var server = Mlflow3();
        await using var tracker = MlflowTracker.Create(OfflineFallbackTests.Options(server.Url, dir.Path));
        var run = await tracker.StartRunAsync("traced");
        // The first attempt and the HTTP pipeline's one retry (MaxRetries = 1) get a 503.
        server.Answer(StartTrace, 1, 503);
        server.Answer(StartTrace, 2, 503);
        string traceId;
        await using (var tracer = new MlflowTracer(tracker))
        {
            using (var span = tracer.StartSpan("step", SpanType.Chain))
            {
                traceId = span.TraceId!;
            }

            Assert.That(await tracer.FlushAsync(Wait), Is.True);
            Assert.That((tracer.Pipeline.Kept, tracer.Pipeline.Failed, tracer.Pipeline.Lost, tracer.Pipeline.Logged), Is.EqualTo((1L, 0L, 0L, 0L)));
        }

        Assert.That(server.Count(StartTrace), Is.GreaterThanOrEqualTo(2), "retried before it was kept");
        var localRunId = run.Mirror!.LocalRunId;
        using (var local = new LocalFileStore(dir.Path))
        {
            Assert.That(local.ListRunTraceIds(localRunId), Is.EqualTo(new[] { traceId }), "kept beside the run's local copy");
        }

        Assert.That(await EventuallyAsync(server, () => server.Traces.ContainsKey(traceId)), Is.True, "the drain sent it once the server answered");
        lock (server.Runs)
        {
            Assert.That((string?)server.Traces[traceId]["trace_metadata"]!["mlflow.sourceRun"], Is.EqualTo(run.RunId));
        }

        await run.DisposeAsync();
    }

    [Test]
    public async Task A_trace_for_a_run_named_in_the_options_goes_where_that_runs_data_goes_while_it_is_offline()
    {
        using var dir = new OfflineFallbackTests.Dir();
        using var server = Mlflow3();
        server.StopListening();
        await using var tracker = MlflowTracker.Create(OfflineFallbackTests.Options(server.Url, dir.Path));
        var named = await tracker.StartRunAsync("named");
        var latest = await tracker.StartRunAsync("latest");
        Assert.That(named.IsOffline, Is.True);
        string traceId;
        await using (var tracer = new MlflowTracer(tracker, new MlflowTracingOptions { RunId = named.RunId }))
        {
            using (var span = tracer.StartSpan("step", SpanType.Chain))
            {
                traceId = span.TraceId!;
            }

            Assert.That(await tracer.FlushAsync(Wait), Is.True);
            Assert.That((tracer.Pipeline.Kept, tracer.Pipeline.Lost, tracer.Pipeline.Failed), Is.EqualTo((1L, 0L, 0L)), "kept with the named run, not lost");
        }

        using (var local = new LocalFileStore(dir.Path))
        {
            Assert.That(local.ListRunTraceIds(named.Mirror!.LocalRunId), Is.EqualTo(new[] { traceId }), "beside the named run's local copy");
            Assert.That(local.ListRunTraceIds(latest.Mirror!.LocalRunId), Is.Empty, "not the latest run's");
        }

        await latest.DisposeAsync();
        await named.DisposeAsync();
    }

    [Test]
    public async Task A_refused_trace_is_counted_as_failed_and_not_kept()
    {
        using var dir = new OfflineFallbackTests.Dir();
        using var server = Mlflow3();
        await using var tracker = MlflowTracker.Create(OfflineFallbackTests.Options(server.Url, dir.Path));
        await using var run = await tracker.StartRunAsync("traced");
        server.Answer(StartTrace, 1, 400, body: """{"error_code":"INVALID_PARAMETER_VALUE","message":"bad trace"}""");
        await using (var tracer = new MlflowTracer(tracker))
        {
            using (tracer.StartSpan("step"))
            {
            }

            Assert.That(await tracer.FlushAsync(Wait), Is.True);
            Assert.That((tracer.Pipeline.Failed, tracer.Pipeline.Kept, tracer.Pipeline.Lost), Is.EqualTo((1L, 0L, 0L)));
        }

        Assert.That(server.Count(StartTrace), Is.EqualTo(1), "a refusal is not retried");
        Assert.That(run.IsOffline, Is.False, "a refusal does not take the run offline");
        Assert.That(run.Mirror, Is.Null, "nothing kept");
    }

    [Test]
    public async Task A_trace_with_no_run_to_keep_it_is_counted_as_lost_when_the_server_is_down()
    {
        using var server = Mlflow3();
        server.StopListening();
        using var client = new MlflowClient(new MlflowClientOptions
        {
            TrackingUri = server.Url,
            Retry = new MlflowRetryOptions { MaxRetries = 1, BackoffFactor = TimeSpan.FromMilliseconds(10), BackoffJitter = TimeSpan.Zero },
        });
        await using var tracer = new MlflowTracer(client, "0");
        using (tracer.StartSpan("step"))
        {
        }

        Assert.That(await tracer.FlushAsync(Wait), Is.True);
        Assert.That((tracer.Pipeline.Lost, tracer.Pipeline.Failed, tracer.Pipeline.Kept), Is.EqualTo((1L, 0L, 0L)));
    }
}
