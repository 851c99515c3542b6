using System.Diagnostics;
using Mlflow.Client.Offline;
using Mlflow.Client.Tests.Sync;
using Mlflow.Client.Tests.Tracking;
using NUnit.Framework;

namespace Mlflow.Client.Tests.Offline;

/// <summary>
/// Defect 7 of issue 10: while a run's local copy is drained to a slow server, what the run logs keeps reaching the
/// local copy on disk (the kill -9 promise: at most <see cref="MlflowOfflineOptions.DurableWriteInterval"/> lost), and a
/// flush returns once the entries are durable, without waiting for the drain.
/// </summary>
[TestFixture]
[Parallelizable(ParallelScope.Children)]
[CancelAfter(120_000)]
internal sealed class DrainWhileLoggingTests
{
    /// <summary>Holds every request for <see cref="Delay"/> before sending it; counts requests waiting.</summary>
    internal sealed class SlowHandler(HttpMessageHandler inner) : DelegatingHandler(inner)
    {
        private int _waiting;

        public TimeSpan Delay { get; set; }

        public int Waiting => Volatile.Read(ref _waiting);

        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            var delay = Delay;
            if (delay > TimeSpan.Zero)
            {
                Interlocked.Increment(ref _waiting);
                try
                {
                    await Task.Delay(delay, cancellationToken);
                }
                finally
                {
                    Interlocked.Decrement(ref _waiting);
                }
            }

            return await base.SendAsync(request, cancellationToken);
        }
    }

    /// <summary>The steps of metric <paramref name="key"/> in the local copy's file, as a kill would leave it (complete lines only).</summary>
    internal static HashSet<long> LocalSteps(string dir, string clientKey, string key)
    {
        var steps = new HashSet<long>();
        foreach (var file in Directory.EnumerateFiles(dir, key, SearchOption.AllDirectories).Where(f => f.Contains(clientKey, StringComparison.Ordinal)))
        {
            using var stream = new FileStream(file, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            var text = new StreamReader(stream).ReadToEnd();
            var complete = text.LastIndexOf('\n');
            foreach (var line in text[..(complete + 1)].Split('\n', StringSplitOptions.RemoveEmptyEntries))
            {
                steps.Add(long.Parse(line.Split(' ')[2], System.Globalization.CultureInfo.InvariantCulture));
            }
        }

        return steps;
    }

    [Test]
    public async Task Entries_logged_while_a_slow_drain_runs_reach_the_local_copy_and_a_flush_does_not_wait_for_the_drain()
    {
        using var dir = new OfflineFallbackTests.Dir();
        using var server = new FakeMlflowServer();
        SlowHandler? slow = null;
        var options = OfflineFallbackTests.Options(server.Url, dir.Path, o =>
        {
            o.WrapHandler = inner => slow = new SlowHandler(new LostAnswerHandler(inner));
            o.Client!.RequestTimeout = TimeSpan.FromSeconds(30);
            o.Offline!.OfflineAfter = TimeSpan.FromSeconds(60); // the drain is not cut: it is slow, not down
        });
        await using var tracker = MlflowTracker.Create(options);
        var run = tracker.StartRun("slow-drain");
        run.LogMetric("m", 0, 0);
        await run.FlushAsync();
        string clientKey;
        lock (server.Runs)
        {
            clientKey = server.Runs[run.RunId].Tags[OfflineMirror.ClientRunKeyTag];
        }

        server.StopListening();
        for (var i = 1; i <= 50; i++)
        {
            run.LogMetric("m", i, i);
        }

        await run.FlushAsync();
        Assert.That(run.IsOffline, Is.True, "the outage was noticed");

        // The server is back, but every answer takes 3 s: a drain of the local copy starts and waits on the server.
        slow!.Delay = TimeSpan.FromSeconds(3);
        server.StartListening();
        Assert.That(TrackerTestSupport.WaitUntil(() => slow.Waiting > 0, 20), Is.True, "a drain started");

        for (var i = 51; i <= 100; i++)
        {
            run.LogMetric("m", i, i);
        }

        // Within a few durable-write intervals (200 ms) the new points are in the local copy's file, while the drain
        // still waits for its first answers.
        var sw = Stopwatch.StartNew();
        Assert.That(TrackerTestSupport.WaitUntil(() => LocalSteps(dir.Path, clientKey, "m").IsSupersetOf(Enumerable.Range(51, 50).Select(i => (long)i)), 2), Is.True,
            "points logged during the drain are on disk in the local copy within the durable interval");
        Assert.That(slow.Waiting, Is.GreaterThan(0), "the drain was still running meanwhile");

        for (var i = 101; i <= 110; i++)
        {
            run.LogMetric("m", i, i);
        }

        sw.Restart();
        await run.FlushAsync().WaitAsync(TimeSpan.FromSeconds(30));
        Assert.That(sw.Elapsed, Is.LessThan(TimeSpan.FromSeconds(2.5)), "a flush returns once the entries are durable locally; it does not wait for the drain");
        Assert.That(LocalSteps(dir.Path, clientKey, "m").IsSupersetOf(Enumerable.Range(101, 10).Select(i => (long)i)), Is.True, "flushed entries are in the local copy");

        // Then everything reaches the server exactly once.
        slow.Delay = TimeSpan.Zero;
        var remote = server.SingleRun();
        Assert.That(TrackerTestSupport.WaitUntil(() => OfflineFallbackTests.Points(server, remote, "m").Count >= 111 && !run.IsOffline, 40), Is.True, "drained");
        run.Dispose();
        Assert.That(OfflineFallbackTests.Points(server, remote, "m").Select(p => p.Step).Order(), Is.EqualTo(Enumerable.Range(0, 111).Select(i => (long)i)), "every point once");
        Assert.That(remote.Status, Is.EqualTo("FINISHED"));
    }
}
