using System.Net;
using System.Net.Sockets;
using System.Text.Json.Nodes;
using Microsoft.Extensions.AI;
using Mlflow.Client.Evaluation.Llm;
using Mlflow.Client.Sync;
using Mlflow.Client.Tests.Tracing.Capture;
using Mlflow.Client.Tracing;
using NUnit.Framework;

namespace Mlflow.Client.Tests.RealServer;

/// <summary>
/// An evaluation run while the tracking server is unreachable keeps its traces (the application's chat spans nested)
/// and assessments in the run's offline copy; <c>mlflow-sync</c> then pushes the run with them to a real MLflow 3 server
/// (<c>MLFLOW_TEST_TRACKING_URI</c>; verified on 3.11.1 with sqlite), which gives them back under the server run.
/// </summary>
[TestFixture]
[Category("RealServer")]
[NonParallelizable]
public class OfflineEvaluateRealServerTests : RealServerClientTest
{
    protected override string PrefixStem => "dotnet-offline-eval-";

    [Test]
    public async Task Traces_of_an_evaluation_run_offline_reach_the_server_with_mlflow_sync()
    {
        await RequireMlflow3Async("Traces need");

        var root = Path.Combine(Path.GetTempPath(), "mlflow-offline-eval-real", Guid.NewGuid().ToString("N"));
        var name = Prefix;
        try
        {
            using var chat = new ScriptedChatClient("Paris.", "Rome.").AsBuilder().UseOpenTelemetry(configure: c => c.EnableSensitiveData = true).Build();
            string localRunId;
            LlmEvaluationResult result;
            await using (var tracker = MlflowTracker.Create(new MlflowTrackerOptions
            {
                TrackingUri = "http://127.0.0.1:" + ClosedPort(),
                ExperimentName = name,
                Offline = new MlflowOfflineOptions { Directory = root },
            }))
            {
                await using var run = await tracker.StartRunAsync("offline-eval");
                Assert.That(run.IsOffline, Is.True);
                localRunId = run.RunId;
                result = await run.EvaluateAsync(
                    EvaluationDataset.FromRecords(
                    [
                        new EvaluationRecord { Inputs = new Dictionary<string, JsonNode?> { ["question"] = "Capital of France?" }, Expectations = new Dictionary<string, JsonNode?> { ["expected_response"] = "Paris." } },
                        new EvaluationRecord { Inputs = new Dictionary<string, JsonNode?> { ["question"] = "Capital of Italy?" }, Expectations = new Dictionary<string, JsonNode?> { ["expected_response"] = "Rome." } },
                    ]),
                    async (inputs, ct) => (await chat.GetResponseAsync([new ChatMessage(ChatRole.User, inputs["question"]!.GetValue<string>())], cancellationToken: ct)).Text,
                    [Scorers.ExactMatch()],
                    new LlmEvaluationOptions { MaxConcurrency = 1 });
            }

            Assert.That(result.TracesLogged, Is.True);
            var summary = await MlflowSync.SyncAsync(new SyncOptions { From = root, To = TrackingUri, ExperimentName = name, Client = new MlflowClientOptions { RequestTimeout = TimeSpan.FromSeconds(60) } });
            TestContext.Progress.WriteLine($"offline evaluation synced: run {localRunId}, {summary.TracesSent} traces, {summary.AssessmentsSent} assessments, errors: {string.Join(" | ", summary.Errors)}");
            Assert.That(summary.Complete, Is.True, string.Join(" | ", summary.Errors));
            Assert.That((summary.TracesSent, summary.AssessmentsSent), Is.EqualTo((2, 4)));

            var experiment = (await Client.GetExperimentByNameAsync(name))!;
            var serverRunId = (await Client.SearchRunsAsync(new RunSearchOptions { ExperimentIds = [experiment.ExperimentId] })).Items.Single().Info.RunId;
            foreach (var row in result.Rows)
            {
                var trace = await Client.GetTraceAsync(row.TraceId!);
                var rootSpan = trace.Spans.Single(s => s.ParentSpanId is null);
                Assert.That(trace.Info.SourceRunId, Is.EqualTo(serverRunId));
                Assert.That(trace.Spans.Single(s => s.SpanType == SpanType.ChatModel).ParentSpanId, Is.EqualTo(rootSpan.SpanId));
                Assert.That(trace.Info.Assessments.Select(a => a.Name), Is.EquivalentTo(new[] { "exact_match", "expected_response" }));
                TestContext.Progress.WriteLine($"  {row.TraceId}: run {trace.Info.SourceRunId}, spans {string.Join(", ", trace.Spans.Select(s => s.Name + ":" + s.SpanType))}");
            }
        }
        finally
        {
            try
            {
                Directory.Delete(root, recursive: true);
            }
            catch (IOException)
            {
            }
        }
    }

    private static int ClosedPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
