using System.Security.Cryptography;
using Mlflow.Client.Sync;
using Mlflow.Client.Tests.Offline;
using Mlflow.Client.Tests.RealServer;
using Mlflow.Client.Tests.Tracking;
using NUnit.Framework;

namespace Mlflow.Client.Tests.Artifacts;

/// <summary>
/// Files logged while a real MLflow server is stopped are kept in the run's offline copy, uploaded once by the drain
/// when the server is back (read back through the server's artifact proxy, byte for byte), and not again by a later
/// mlflow-sync of the same offline folder. Runs when <c>MLFLOW_TEST_TRACKING_URI</c> and
/// <c>MLFLOW_TEST_SERVER_CONTROL</c> (script|dir|port|backend) are set.
/// </summary>
[TestFixture]
[Category("RealServer")]
[NonParallelizable]
public class OfflineArtifactsRealServerTests
{
    [Test]
    [CancelAfter(600_000)]
    public async Task Files_logged_while_the_server_is_stopped_are_uploaded_once_by_the_drain_and_not_again_by_sync()
    {
        var (uri, control) = RealServerEnvironment.RequireServerControl("stop");
        var (script, serverDir, port, backend) = control.Split('|') switch { var p => (p[0], p[1], p[2], p[3]) };
        using var dir = new OfflineFallbackTests.Dir();
        Directory.CreateDirectory(dir.Path);
        var offline = Path.Combine(dir.Path, "offline");
        var weights = Path.Combine(dir.Path, "weights.bin");
        var bytes = Enumerable.Range(0, 300_000).Select(i => (byte)(i * 7)).ToArray();
        await File.WriteAllBytesAsync(weights, bytes);
        var options = new MlflowTrackerOptions
        {
            TrackingUri = uri,
            ExperimentName = "dotnet-offline-artifacts-" + Guid.NewGuid().ToString("N")[..10],
            Offline = new MlflowOfflineOptions { Directory = offline, ReconnectInterval = TimeSpan.FromSeconds(1) },
        };
        options.Client.RequestTimeout = TimeSpan.FromSeconds(10);
        options.Client.Retry.MaxRetries = 1;

        string runId;
        var stopped = false;
        await using (var tracker = MlflowTracker.Create(options))
        {
            var run = await tracker.StartRunAsync("files-offline");
            runId = run.RunId;
            await run.LogTextAsync("online", "first.txt");
            try
            {
                ServerRestartRealServerTests.Run(script, "stop", serverDir);
                stopped = true;
                await run.LogArtifactAsync(weights, "model");
                await run.LogTextAsync("kept offline", "notes.txt");
                Assert.That(run.IsOffline, Is.True, "the uploads found the server gone");
                ServerRestartRealServerTests.Run(script, "start", serverDir, port, backend);
                stopped = false;
            }
            finally
            {
                if (stopped)
                {
                    ServerRestartRealServerTests.Run(script, "start", serverDir, port, backend);
                }
            }

            Assert.That(TrackerTestSupport.WaitUntil(() => !run.IsOffline && run.DataLocation == RunDataLocation.Server, 120), Is.True, "drained");
            await run.DisposeAsync();
        }

        using var client = new MlflowClient(new MlflowClientOptions { TrackingUri = uri });
        var expected = new Dictionary<string, string>
        {
            ["first.txt"] = Hash("online"u8.ToArray()),
            ["model/weights.bin"] = Hash(bytes),
            ["notes.txt"] = Hash("kept offline"u8.ToArray()),
        };
        Assert.That(await ServerFilesAsync(client, runId), Is.EqualTo(expected));

        // mlflow-sync of the same offline folder afterwards sends no file again.
        var summary = await MlflowSync.SyncAsync(new SyncOptions { From = offline, To = uri });
        Assert.That(summary.Complete, Is.True, string.Join("; ", summary.Errors));
        Assert.That(summary.ArtifactsSent, Is.Zero);
        Assert.That(await ServerFilesAsync(client, runId), Is.EqualTo(expected));
    }

    private static string Hash(byte[] data) => Convert.ToHexString(SHA256.HashData(data));

    /// <summary>Every file of the run on the server (through its artifact proxy) with its SHA-256.</summary>
    private static async Task<Dictionary<string, string>> ServerFilesAsync(MlflowClient client, string runId, string? folder = null)
    {
        var files = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var entry in await client.ListArtifactsAsync(runId, folder))
        {
            if (entry.IsDir)
            {
                foreach (var (path, hash) in await ServerFilesAsync(client, runId, entry.Path))
                {
                    files[path] = hash;
                }

                continue;
            }

            await using var stream = await client.DownloadRunArtifactAsync(runId, entry.Path);
            files[entry.Path] = Convert.ToHexString(await SHA256.HashDataAsync(stream));
        }

        return files;
    }
}
