using System.Text.Json.Nodes;
using Mlflow.Client.FileStore;
using Mlflow.Client.Sync;
using Mlflow.Client.Tests.FileStore;
using Mlflow.Client.Tests.Infrastructure;
using Mlflow.Client.Tracing;
using NUnit.Framework;

namespace Mlflow.Client.Tests.Sync;

/// <summary>
/// Sync of a local run with a trace and its assessments to a real MLflow 3 server (<c>MLFLOW_TEST_TRACKING_URI</c>,
/// sqlite- or file-backed), twice and once more without journals; then MLflow 3's own Python (<c>MLFLOW_SRC</c>,
/// <c>MLFLOW_SHIMS</c>) reads the trace from the server: spans with their types, inputs and outputs, the assessments,
/// and the link to the pushed run. On an MLflow 2 server the run is pushed and the traces skipped with a message.
/// </summary>
[TestFixture]
[Category("RealServer")]
[NonParallelizable]
[CancelAfter(300_000)]
internal sealed class SyncTraceRealServerTests
{
    private static readonly CancellationToken None = CancellationToken.None;

    [Test]
    public async Task A_synced_trace_and_its_assessments_are_on_the_server_once_and_python_reads_them()
    {
        var uri = RealServer.RealServerEnvironment.RequireTrackingUri();
        var parent = Path.Combine(Path.GetTempPath(), "mlflow-sync-traces-real", Guid.NewGuid().ToString("N"));
        var root = Path.Combine(parent, "mlruns");
        var experimentName = "dotnet-sync-traces-" + Guid.NewGuid().ToString("N")[..10];
        try
        {
            string runId, traceId;
            List<Assessment> assessments;
            IReadOnlyList<TraceSpan> spans;
            using (var store = new LocalFileStore(root))
            {
                var experimentId = await store.CreateExperimentAsync(experimentName, null, null, None);
                runId = (await store.CreateRunAsync(experimentId, "evaluation", 1_765_000_000_000, null, "me", None)).Info.RunId;
                spans = TraceFileStoreTests.SampleSpans();
                traceId = (await store.LogTraceAsync(TraceFileStoreTests.SampleTrace(experimentId, runId), spans, None)).TraceId;
                assessments = await TraceFileStoreTests.LogSampleAssessmentsAsync(store, traceId, runId);
                await store.UpdateRunAsync(runId, RunStatus.Finished, 1_765_000_009_000, null, None);
            }

            var options = new SyncOptions { From = root, To = uri, ExperimentName = experimentName, Client = new MlflowClientOptions { RequestTimeout = TimeSpan.FromSeconds(60) } };
            var first = await MlflowSync.SyncAsync(options);
            using var client = new MlflowClient(new MlflowClientOptions { TrackingUri = uri });
            var server = await client.GetServerInfoAsync();
            TestContext.Out.WriteLine($"server {uri}: MLflow {server.Version}, store {server.StoreType}; first sync: {first.TracesSent} traces, {first.AssessmentsSent} assessments, errors: {string.Join(" | ", first.Errors)}");
            if (!server.SupportsLoggedModels)
            {
                Assert.That(first.Errors, Is.Empty);
                Assert.That((first.RunsCreated, first.TracesSent, first.TracesSkipped), Is.EqualTo((1, 0, 1)));
                Assert.That(first.Runs.Single().TracesSkippedReason, Does.Contain("MLflow 3"));
                TestContext.Out.WriteLine("skipped: " + first.Runs.Single().TracesSkippedReason);
                return;
            }

            Assert.That(first.Complete, Is.True, string.Join(" | ", first.Errors));
            Assert.That((first.TracesSent, first.AssessmentsSent), Is.EqualTo((1, 9)));
            var second = await MlflowSync.SyncAsync(options);
            Assert.That((second.Complete, second.RunsUpToDate, second.TracesSent, second.AssessmentsSent), Is.EqualTo((true, 1, 0, 0)));
            foreach (var dir in Directory.GetDirectories(root, SyncJournal.FolderName, SearchOption.AllDirectories))
            {
                Directory.Delete(dir, recursive: true);
            }

            var third = await MlflowSync.SyncAsync(options);
            Assert.That(third.Complete, Is.True, "without journals: " + string.Join(" | ", third.Errors));
            Assert.That((third.RunsCreated, third.AssessmentsSent), Is.EqualTo((0, 0)), "the run, the trace and its assessments were found on the server");

            var experiment = (await client.GetExperimentByNameAsync(experimentName))!;
            var serverRunId = (await client.SearchRunsAsync(new RunSearchOptions { ExperimentIds = [experiment.ExperimentId] })).Items.Single().Info.RunId;
            var ours = await client.GetTraceAsync(traceId);
            Assert.That(ours.Info.SourceRunId, Is.EqualTo(serverRunId));
            Assert.That(ours.Info.Assessments, Has.Count.EqualTo(9));

            MlflowPython.Require();
            var output = await MlflowPython.RunAsync(Path.Combine(RepoPaths.RepoRoot, "tests", "Mlflow.Client.Tests", "Tracing", "read_traces_with_mlflow.py"), uri, experiment.ExperimentId, serverRunId);
            TestContext.Out.WriteLine(output);
            var json = JsonNode.Parse(output)!;
            Assert.That(json["run_traces"]!.AsArray().Select(t => (string)t!), Is.EqualTo(new[] { traceId }));
            var trace = json["traces"]!.AsArray().Single()!;
            Assert.That((string)trace["source_run"]!, Is.EqualTo(serverRunId));
            Assert.That(trace["spans"]!.AsArray().Select(s => ((string)s!["name"]!, (string)s["span_type"]!)),
                Is.EqualTo(spans.Select(s => (s.Name, s.SpanType!))));
            Assert.That(JsonNode.DeepEquals(trace["spans"]![2]!["inputs"], spans[2].Inputs), Is.True, "the chat model span carries the messages");
            var theirs = trace["assessments"]!.AsArray();
            Assert.That(theirs, Has.Count.EqualTo(9), "each assessment once after three syncs");
            Assert.That(theirs.Select(a => (string)a!["metadata"]![RunSynchronizer.SourceAssessmentIdMetadata]!), Is.EquivalentTo(assessments.Select(a => a.AssessmentId)));
            Assert.That((string)theirs.Single(a => (string)a!["name"]! == "correctness" && a["metadata"]!["mlflow.assessment.sourceRunId"] is not null)!["metadata"]!["mlflow.assessment.sourceRunId"]!, Is.EqualTo(serverRunId));
            Assert.That((double)theirs.Single(a => (string)a!["name"]! == "score")!["value"]!, Is.EqualTo(0.75));
            Assert.That((string)theirs.Single(a => (string)a!["name"]! == "safety")!["error_code"]!, Is.EqualTo("RateLimit"));
            Assert.That(theirs.Count(a => (string)a!["name"]! == "correctness" && !(bool)a["valid"]!), Is.EqualTo(1), "the overridden opinion");
        }
        finally
        {
            try
            {
                Directory.Delete(parent, recursive: true);
            }
            catch (IOException)
            {
            }
        }
    }
}
