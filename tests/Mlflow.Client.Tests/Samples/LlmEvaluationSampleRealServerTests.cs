using System.Text.Json.Nodes;
using Mlflow.Client.Sync;
using Mlflow.Client.Tests.Infrastructure;
using Mlflow.Client.Tests.RealServer;
using NUnit.Framework;

namespace Mlflow.Client.Tests.Samples;

/// <summary>
/// samples/LlmEvaluation (stand-in model) read back by MLflow 3's own Python (<c>MLFLOW_SRC</c> an MLflow 3 tree): run
/// against an MLflow 3 server (<c>MLFLOW_TEST_TRACKING_URI</c>; its Flask server has no <c>/v1/traces</c>, so the spans
/// go as artifacts), on the local store (Python reads the folder), and from the local store pushed with
/// <c>mlflow-sync</c>. Each time Python sees one trace per record with its spans (a CHAT_MODEL span with the messages),
/// every scorer's assessment (the judges' with rationales), the traces linked to the run, the dataset input and the
/// <c>&lt;scorer&gt;/mean</c> aggregates (<see cref="LlmSampleChecks"/>). Ignored with MLflow 2 (no v3 traces).
/// </summary>
[Category("RealServer")]
[NonParallelizable]
[CancelAfter(900_000)]
public class LlmEvaluationSampleRealServerTests : RealServerClientTest
{
    protected override string PrefixStem => "llm-sample-";

    [Test]
    public async Task Against_a_server_MLflow_3s_python_reads_the_traces_assessments_dataset_and_metrics_from_it()
    {
        await RequireMlflow3Async("The sample's traces need");
        MlflowPython.RequireMlflow3();
        var output = await RunSampleAsync(TrackingUri);
        Assert.That(output, Does.Contain("traces logged: True"));

        var theirs = await LlmSampleChecks.ReadBackAsync(TrackingUri, Prefix);
        var run = LlmSampleChecks.AssertReadBack(theirs);
        Assert.That(output, Does.Contain("Run " + (string)run["run_id"]!));
    }

    [Test]
    public async Task On_the_local_store_MLflow_3s_python_reads_the_traces_assessments_dataset_and_metrics_from_the_folder()
    {
        MlflowPython.RequireMlflow3();
        using var store = new TempStore();
        var output = await RunSampleAsync(store.Path);
        Assert.That(output, Does.Contain("traces logged: True"));

        var theirs = await LlmSampleChecks.ReadBackAsync(store.Uri, Prefix);
        LlmSampleChecks.AssertReadBack(theirs);
    }

    [Test]
    public async Task The_local_store_pushed_with_mlflow_sync_reads_back_the_same_from_the_server_and_a_second_sync_sends_nothing()
    {
        await RequireMlflow3Async("mlflow-sync pushes traces only to");
        MlflowPython.RequireMlflow3();
        using var store = new TempStore();
        await RunSampleAsync(store.Path);
        var local = await LlmSampleChecks.ReadBackAsync(store.Uri, Prefix);
        var localRun = LlmSampleChecks.AssertReadBack(local);
        var assessments = localRun["traces"]!.AsArray().Sum(t => t!["assessments"]!.AsArray().Count);

        var options = new SyncOptions { From = store.Path, To = TrackingUri, ExperimentName = Prefix, Client = new MlflowClientOptions { RequestTimeout = TimeSpan.FromSeconds(60) } };
        var first = await MlflowSync.SyncAsync(options);
        TestContext.Progress.WriteLine($"first sync: {first.RunsCreated} run(s), {first.TracesSent} traces, {first.AssessmentsSent} assessments; errors: {string.Join(" | ", first.Errors)}");
        Assert.That(first.Complete, Is.True, string.Join(" | ", first.Errors));
        Assert.That((first.RunsCreated, first.TracesSent, first.AssessmentsSent), Is.EqualTo((1, 22, assessments)));

        var second = await MlflowSync.SyncAsync(options);
        Assert.That(second.Complete, Is.True, string.Join(" | ", second.Errors));
        Assert.That((second.RunsCreated, second.RunsUpToDate, second.TracesSent, second.AssessmentsSent), Is.EqualTo((0, 1, 0, 0)), "nothing new the second time");

        var theirs = await LlmSampleChecks.ReadBackAsync(TrackingUri, Prefix);
        var serverRun = LlmSampleChecks.AssertReadBack(theirs);
        Assert.That((string)serverRun["run_id"]!, Is.Not.EqualTo((string)localRun["run_id"]!), "the server's own run, which the traces now name");
        Assert.That(JsonNode.DeepEquals(serverRun["metrics"], localRun["metrics"]), Is.True, "the same aggregates");
        Assert.That(JsonNode.DeepEquals(serverRun["params"], localRun["params"]), Is.True);
        Assert.That(((string)serverRun["inputs"]![0]!["digest"]!, (string)serverRun["inputs"]![0]!["name"]!), Is.EqualTo(((string)localRun["inputs"]![0]!["digest"]!, (string)localRun["inputs"]![0]!["name"]!)), "the same dataset");
        var localTraces = localRun["traces"]!.AsArray().ToDictionary(t => (string)t!["trace_id"]!, t => t!);
        foreach (var trace in serverRun["traces"]!.AsArray())
        {
            var id = (string)trace!["trace_id"]!;
            Assert.That(localTraces.TryGetValue(id, out var mine), Is.True, id + ": the trace keeps its id");
            Assert.That(LlmSampleChecks.AssessmentKeys(trace), Is.EqualTo(LlmSampleChecks.AssessmentKeys(mine!)), id + ": the same assessments, each once");
            Assert.That(trace["spans"]!.AsArray().Select(s => ((string)s!["name"]!, (string)s["span_type"]!)), Is.EqualTo(mine!["spans"]!.AsArray().Select(s => ((string)s!["name"]!, (string)s["span_type"]!))), id + ": the same spans");
        }
    }

    /// <summary>Runs the sample (stand-in model) into <paramref name="trackingUri"/> under the experiment <see cref="RealServerClientTest.Prefix"/>.</summary>
    private async Task<string> RunSampleAsync(string trackingUri)
    {
        var work = Directory.CreateTempSubdirectory("llm-sample-");
        try
        {
            var (exit, output) = await SampleProcess.RunAsync("LlmEvaluation", work.FullName, new Dictionary<string, string?>
            {
                [MlflowEnvironmentVariables.TrackingUri] = trackingUri,
                [MlflowEnvironmentVariables.ExperimentName] = Prefix,
                ["LLM_ENDPOINT"] = null,
            });
            Assert.That(exit, Is.Zero, output);
            Assert.That(output, Does.Contain("deterministic stand-in"));
            return output;
        }
        finally
        {
            work.Delete(recursive: true);
        }
    }

    /// <summary>A temporary local store folder, deleted afterwards.</summary>
    private sealed class TempStore : IDisposable
    {
        public TempStore() => Path = Directory.CreateTempSubdirectory("llm-sample-store-").FullName;

        public string Path { get; }

        public string Uri => "file://" + Path;

        public void Dispose()
        {
            try
            {
                Directory.Delete(Path, recursive: true);
            }
            catch (IOException)
            {
            }
        }
    }
}
