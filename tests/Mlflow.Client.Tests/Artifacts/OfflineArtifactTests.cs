using System.Security.Cryptography;
using Mlflow.Client.Sync;
using Mlflow.Client.Tests.Offline;
using Mlflow.Client.Tests.Sync;
using Mlflow.Client.Tests.Tracking;
using NUnit.Framework;

namespace Mlflow.Client.Tests.Artifacts;

/// <summary>Files logged while the server cannot be reached are kept in the run's offline copy and uploaded once: by the drain, or by mlflow-sync.</summary>
internal sealed class OfflineArtifactTests
{
    private OfflineFallbackTests.Dir _dir = null!;
    private string _file = "";
    private byte[] _bytes = [];

    [SetUp]
    public void SetUp()
    {
        _dir = new OfflineFallbackTests.Dir();
        Directory.CreateDirectory(_dir.Path);
        _file = Path.Combine(_dir.Path, "weights.bin");
        _bytes = Enumerable.Range(0, 100_000).Select(i => (byte)(i * 13)).ToArray();
        File.WriteAllBytes(_file, _bytes);
    }

    [TearDown]
    public void TearDown() => _dir.Dispose();

    private string OfflineDir => Path.Combine(_dir.Path, "offline");

    /// <summary>Artifact requests the server answered (uploads only: nothing here reads through the server).</summary>
    private static int Uploads(FakeMlflowServer server) => server.Count("artifacts");

    /// <summary>SHA-256 of each file of a server run; call it once the uploads are counted (the fake's map is not locked for readers).</summary>
    private static Dictionary<string, string> Hashes(FakeMlflowServer server, string serverRunId)
        => server.Artifacts.ToArray().Where(a => a.Key.StartsWith(serverRunId + "/", StringComparison.Ordinal))
            .ToDictionary(a => a.Key[(serverRunId.Length + 1)..], a => Convert.ToHexString(SHA256.HashData(a.Value)));

    private Dictionary<string, string> Expected() => new()
    {
        ["model/weights.bin"] = Convert.ToHexString(SHA256.HashData(_bytes)),
        ["notes.txt"] = Convert.ToHexString(SHA256.HashData("kept offline"u8.ToArray())),
    };

    [Test]
    public async Task A_run_started_offline_keeps_its_files_and_the_drain_uploads_each_once()
    {
        using var server = new FakeMlflowServer();
        server.StopListening();
        await using var tracker = MlflowTracker.Create(OfflineFallbackTests.Options(server.Url, OfflineDir));
        var run = await tracker.StartRunAsync("offline-files");
        Assert.That(run.IsOffline, Is.True);
        await run.LogArtifactAsync(_file, "model");
        run.LogText("kept offline", "notes.txt");
        Assert.That(run.DataLocation, Is.EqualTo(RunDataLocation.OfflineAwaitingSync));
        Assert.That(run.ListArtifacts().Select(a => a.Path), Is.EqualTo(new[] { "model", "notes.txt" }), "read from the offline copy");

        server.StartListening();
        Assert.That(TrackerTestSupport.WaitUntil(() => run.ServerRunId is not null && Uploads(server) >= 2, 30), Is.True, "drained");
        var serverRunId = run.ServerRunId;
        await run.DisposeAsync();
        Assert.That(run.ServerRunId, Is.EqualTo(serverRunId), "still known once the ended run's copy is drained and forgotten");
        Assert.That(Hashes(server, run.ServerRunId!), Is.EqualTo(Expected()));
        Assert.That(Uploads(server), Is.EqualTo(2));

        // mlflow-sync of the same offline folder afterwards uploads nothing again.
        var summary = await MlflowSync.SyncAsync(new SyncOptions { From = OfflineDir, To = server.Url });
        Assert.That(summary.Complete, Is.True, string.Join("; ", summary.Errors));
        Assert.That(summary.ArtifactsSent, Is.Zero);
        Assert.That(Uploads(server), Is.EqualTo(2));
    }

    [Test]
    public async Task A_file_whose_upload_finds_the_server_gone_is_kept_offline_and_uploaded_once_when_it_answers()
    {
        using var server = new FakeMlflowServer();
        await using var tracker = MlflowTracker.Create(OfflineFallbackTests.Options(server.Url, OfflineDir));
        var run = await tracker.StartRunAsync("goes-offline");
        run.LogText("online", "first.txt");
        Assert.That(Uploads(server), Is.EqualTo(1));
        server.StopListening();
        await run.LogArtifactAsync(_file, "model");
        Assert.That(run.IsOffline, Is.True);
        run.LogText("kept offline", "notes.txt");
        Assert.That(Uploads(server), Is.EqualTo(1));

        server.StartListening();
        Assert.That(TrackerTestSupport.WaitUntil(() => Uploads(server) >= 3 && !run.IsOffline, 90), Is.True, "drained"); // generous: a loaded 2-core machine
        await run.DisposeAsync();
        var expected = Expected();
        expected["first.txt"] = Convert.ToHexString(SHA256.HashData("online"u8.ToArray()));
        Assert.That(Hashes(server, run.RunId), Is.EqualTo(expected));
        Assert.That(Uploads(server), Is.EqualTo(3), "first.txt directly, the two kept offline once by the drain");
    }

    [Test]
    public async Task Server_down_for_the_whole_run_then_mlflow_sync_uploads_each_file_once_and_a_rerun_nothing()
    {
        using var server = new FakeMlflowServer();
        server.StopListening();
        string localRunId;
        await using (var tracker = MlflowTracker.Create(OfflineFallbackTests.Options(server.Url, OfflineDir)))
        {
            var run = await tracker.StartRunAsync("offline-then-sync");
            localRunId = run.RunId;
            await run.LogArtifactAsync(_file, "model");
            await run.LogTextAsync("kept offline", "notes.txt");
            await run.DisposeAsync();
        }

        server.StartListening();
        var first = await MlflowSync.SyncAsync(new SyncOptions { From = OfflineDir, To = server.Url });
        Assert.That(first.Complete, Is.True, string.Join("; ", first.Errors));
        Assert.That(first.ArtifactsSent, Is.EqualTo(2));
        var remote = server.RunBySource(localRunId);
        Assert.That(Hashes(server, remote.RunId), Is.EqualTo(Expected()));
        Assert.That(Uploads(server), Is.EqualTo(2));

        var again = await MlflowSync.SyncAsync(new SyncOptions { From = OfflineDir, To = server.Url });
        Assert.That(again.ArtifactsSent, Is.Zero);
        Assert.That(Uploads(server), Is.EqualTo(2), "a re-run uploads nothing");
    }
}
