using Mlflow.Client.FileStore;
using Mlflow.Client.Sync;
using NUnit.Framework;

namespace Mlflow.Client.Tests.Sync;

/// <summary>Sync against a real MLflow server (sqlite- or file-backed), only when <c>MLFLOW_TEST_TRACKING_URI</c> is set.</summary>
[TestFixture]
[Category("RealServer")]
[NonParallelizable]
[CancelAfter(300_000)]
internal sealed class SyncRealServerTests
{
    [Test]
    public async Task SyncTwice_EveryPointOnce_OneRunEach()
    {
        var uri = RealServer.RealServerEnvironment.RequireTrackingUri();

        var parent = Path.Combine(Path.GetTempPath(), "mlflow-sync-real", Guid.NewGuid().ToString("N"));
        var root = Path.Combine(parent, "mlruns");
        var experimentName = "dotnet-sync-it-" + Guid.NewGuid().ToString("N")[..10];
        var ids = await SyncTests.BuildStoreAsync(root, experimentName, duplicateNan: true);
        var options = new SyncOptions { From = root, To = uri, ExperimentName = experimentName, Client = new MlflowClientOptions { RequestTimeout = TimeSpan.FromSeconds(60) } };
        try
        {
            var first = await MlflowSync.SyncAsync(options);
            Assert.That(first.Errors, Is.Empty);
            Assert.That(first.RunsCreated, Is.EqualTo(2));
            var second = await MlflowSync.SyncAsync(options);
            Assert.That(second.Errors, Is.Empty);
            Assert.That(second.RunsUpToDate, Is.EqualTo(2));
            Assert.That(second.MetricPointsSent, Is.Zero);

            // Lose the journals: the runs are found by their source tag and every point is checked, none re-sent.
            foreach (var dir in Directory.GetDirectories(root, ".mlflow-dotnet", SearchOption.AllDirectories))
            {
                Directory.Delete(dir, recursive: true);
            }

            var third = await MlflowSync.SyncAsync(options);
            Assert.That(third.Errors, Is.Empty);
            Assert.That(third.RunsCreated, Is.Zero);
            // Without a journal nothing tells a SQL server (keeps identical points once) from a file one (appends), so
            // the two local exact-duplicate lines may be offered again; a SQL server drops them, the checks below prove it.
            Assert.That(third.MetricPointsSent, Is.LessThanOrEqualTo(2));

            using var client = new MlflowClient(new MlflowClientOptions { TrackingUri = uri });
            var experiment = await client.GetExperimentByNameAsync(experimentName);
            Assert.That(experiment, Is.Not.Null);
            var serverRuns = (await client.SearchRunsAsync(new RunSearchOptions { ExperimentIds = [experiment!.ExperimentId], ViewType = ViewType.All })).Items;
            Assert.That(serverRuns, Has.Count.EqualTo(2), "one server run per local run, after three syncs");

            using var store = new LocalFileStore(root);
            var sqlLike = false;
            foreach (var (name, localId) in new[] { ("parent", ids["parent"]), ("child", ids["child"]) })
            {
                var remote = serverRuns.Single(r => r.Data.Tags.Any(t => t.Key == "mlflow.dotnet.sourceRunId" && t.Value == localId));
                var local = await store.GetRunAsync(localId, CancellationToken.None);
                Assert.That(remote.Info.RunName, Is.EqualTo(local.Info.RunName), name);
                Assert.That(remote.Info.Status, Is.EqualTo(local.Info.Status), name);
                Assert.That(remote.Info.EndTime, Is.EqualTo(local.Info.EndTime), name);
                Assert.That(remote.Info.StartTime, Is.EqualTo(local.Info.StartTime), name);
                Assert.That(remote.Data.Params.OrderBy(p => p.Key), Is.EqualTo(local.Data.Params.OrderBy(p => p.Key)), name);
                var runDir = store.GetRunDirectory(localId);
                foreach (var metric in local.Data.Metrics)
                {
                    var history = await client.GetMetricHistoryAsync(remote.Info.RunId, metric.Key);
                    var localPoints = store.ReadMetricFile(Path.Combine(runDir, "metrics", metric.Key), metric.Key);
                    sqlLike |= history.Any(m => m.Value == double.MaxValue);
                    var expected = localPoints.Select(m => MetricReconciler.PointKey.Of(m)).ToList();
                    var actual = history.Select(m => MetricReconciler.PointKey.Of(m)).ToList();
                    TestContext.Out.WriteLine($"{name}/{metric.Key}: local {expected.Count} points, server {actual.Count}");
                    if (actual.Count < expected.Count)
                    {
                        // a deduplicating (SQL) server keeps identical points once
                        expected = expected.Distinct().ToList();
                    }

                    Assert.That(actual, Is.EquivalentTo(expected), $"{name}/{metric.Key}");
                }

                if (name == "child")
                {
                    var parentServerId = serverRuns.Single(r => r.Data.Tags.Any(t => t.Key == "mlflow.dotnet.sourceRunId" && t.Value == ids["parent"])).Info.RunId;
                    Assert.That(remote.Data.Tags.Single(t => t.Key == "mlflow.parentRunId").Value, Is.EqualTo(parentServerId));
                }
                else
                {
                    var files = await client.ListArtifactsAsync(remote.Info.RunId, "reports");
                    Assert.That(files.Select(f => f.Path), Is.EqualTo(new[] { "reports/summary.txt" }));
                }
            }

            TestContext.Out.WriteLine($"server {uri}: first sync {first.MetricPointsSent} points, {first.ArtifactsSent} artifacts; SQL-like: {sqlLike}");
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
