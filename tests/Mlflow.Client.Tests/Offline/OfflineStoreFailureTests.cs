using Mlflow.Client.Tests.Sync;
using NUnit.Framework;

namespace Mlflow.Client.Tests.Offline;

/// <summary>
/// The one path where an accepted entry can be lost: the server cannot take it and the local store cannot keep it. Then
/// it is counted failed and reported with both reasons, and nothing hangs or throws from a dispose.
/// </summary>
[TestFixture]
[CancelAfter(120_000)]
internal sealed class OfflineStoreFailureTests
{
    [Test]
    public async Task Entries_the_server_cannot_take_and_the_local_store_cannot_keep_are_counted_failed_with_both_reasons()
    {
        using var dir = new OfflineFallbackTests.Dir();
        Directory.CreateDirectory(dir.Path);
        var blocker = Path.Combine(dir.Path, "not-a-folder");
        await File.WriteAllTextAsync(blocker, "a file where the offline folder should be");
        using var server = new FakeMlflowServer();
        var options = OfflineFallbackTests.Options(server.Url, Path.Combine(blocker, "mlruns"), o => o.Batching.ShutdownTimeout = TimeSpan.FromSeconds(2));
        await using var tracker = MlflowTracker.Create(options);
        var run = await tracker.StartRunAsync("store-fails");
        run.LogMetric("before", 1, step: 0);
        await run.FlushAsync();

        server.StopListening();
        for (var i = 0; i < 250; i++)
        {
            run.LogMetric("after", i, step: i);
        }

        var flushed = await tracker.FlushAsync(TimeSpan.FromSeconds(60));

        Assert.That(flushed, Is.True, "every entry was settled: none is left waiting");
        Assert.That(tracker.Counters.Failed, Is.EqualTo(250));
        Assert.That(tracker.Counters.Offline, Is.Zero);
        Assert.That(run.RejectedEntries, Has.Count.EqualTo(250));
        Assert.That(run.RejectedEntries[0].Message, Does.Contain("the local store failed"));
        Assert.That(run.RejectedEntries[0].Key, Is.EqualTo("after"));
        Assert.DoesNotThrow(run.Dispose, "disposing a run never throws; the rejections stay reported");
    }
}
