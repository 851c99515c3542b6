using System.Runtime.CompilerServices;
using Mlflow.Client.FileStore;
using Mlflow.Client.Store;
using Mlflow.Client.Tests.FileStore;
using Mlflow.Client.Tests.Offline;
using Mlflow.Client.Tests.Sync;
using NUnit.Framework;

namespace Mlflow.Client.Tests.Tracking;

/// <summary>
/// Keys are refused on the caller's thread by MLflow's rule always, and by the local store's file-name rule whenever
/// the run may write to a local store (a local-store tracker, or a server tracker with the offline fallback).
/// </summary>
[TestFixture]
[Parallelizable(ParallelScope.Children)]
[CancelAfter(60_000)]
internal sealed class KeyRuleTests
{
    /// <summary>Keys MLflow 2.12.2's server refuses (<c>path_not_unique</c>): they change under <c>posixpath.normpath</c> or start with '/' or '..'.</summary>
    internal static readonly string[] MlflowRefused = ["..a", "...x", "..a/b", "..", ".", "/a", "a//b", "a/./b", "a/", "./a", "a/..", "a/.", "a/../b", ""];

    /// <summary>Keys MLflow accepts but no portable file system stores: device names, a trailing dot or space, a segment over 255 UTF-8 bytes.</summary>
    internal static readonly string[] NotStorable = ["con", "aux.txt", "a/NUL", "COM1.log", "lpt9", "trail.", "trail ", "a./b", new string('é', 128), "x/" + new string('é', 128)];

    private const string Value = "value-never-in-messages";

    /// <summary>Keys every mode accepts; MLflow's own FileStore reads them back (see RealMlflowReadTests).</summary>
    internal static readonly string[] Awkward = ["a/..b", ".x", "x..y", "a/.b/c", "日本/語", new string('é', 127), "a b"];

    [Test]
    public async Task A_tracker_on_a_local_store_refuses_both_rules_on_the_callers_thread_and_writes_no_such_file()
    {
        using var dir = new OfflineFallbackTests.Dir();
        string runDir;
        await using (var tracker = MlflowTracker.Create(new MlflowTrackerOptions { TrackingUri = dir.Path, ExperimentName = "keys" }))
        {
            var run = tracker.StartRun("r");
            Assert.That(run.DataLocation, Is.EqualTo(RunDataLocation.LocalStore));
            Assert.That(tracker.Destination, Is.EqualTo(dir.Path));
            Assert.That(tracker.OfflineDirectory, Is.Null);
            runDir = Path.Combine(dir.Path, run.ExperimentId, run.RunId);
            AssertAllRefused(run, [.. MlflowRefused, .. NotStorable]);
            LogAwkward(run);
            run.Dispose(); // would throw MlflowRejectedEntriesException had the store refused an entry at flush
        }

        Assert.That(FileStoreTestBase.StoredKeys(runDir, "metrics"), Is.EquivalentTo(Awkward));
        Assert.That(FileStoreTestBase.StoredKeys(runDir, "params"), Is.EquivalentTo(Awkward));
        Assert.That(FileStoreTestBase.StoredKeys(runDir, "tags").Where(k => !k.StartsWith("mlflow.", StringComparison.Ordinal)), Is.EquivalentTo(Awkward));
    }

    [Test]
    public async Task A_tracker_on_a_server_with_the_offline_fallback_refuses_both_rules_on_the_callers_thread()
    {
        using var dir = new OfflineFallbackTests.Dir();
        using var server = new FakeMlflowServer();
        await using (var tracker = MlflowTracker.Create(OfflineFallbackTests.Options(server.Url, dir.Path)))
        {
            var run = tracker.StartRun("r");
            AssertAllRefused(run, [.. MlflowRefused, .. NotStorable]);
            LogAwkward(run);
            run.Dispose();
        }

        var remote = server.SingleRun();
        lock (server.Runs)
        {
            Assert.That(remote.Metrics.Keys, Is.EquivalentTo(Awkward));
            Assert.That(remote.Params.Keys, Is.EquivalentTo(Awkward));
        }
    }

    [Test]
    public async Task Start_run_tags_follow_the_same_rule_as_the_log_methods()
    {
        using var dir = new OfflineFallbackTests.Dir();
        using var server = new FakeMlflowServer();
        await using (var tracker = MlflowTracker.Create(OfflineFallbackTests.Options(server.Url, dir.Path)))
        {
            foreach (var key in new[] { "con", "trail.", "..a" })
            {
                AssertRefused(() => tracker.StartRun("r", [new(key, Value)]), key, "tag key", key);
            }
        }

        using var serverOnly = ServerOnlyTracker(server);
        using (serverOnly.StartRun("r", [new("con", "device names are fine for a server")]))
        {
        }

        Assert.That(server.Runs.Values.Count(r => r.Tags.ContainsKey("con")), Is.EqualTo(1), "a server-only tracker accepts what MLflow accepts");
    }

    [Test]
    public async Task A_tracker_on_a_server_without_the_offline_fallback_refuses_only_mlflows_rule()
    {
        using var server = new FakeMlflowServer();
        await using (var tracker = ServerOnlyTracker(server))
        {
            var run = tracker.StartRun("r");
            AssertAllRefused(run, MlflowRefused);
            foreach (var key in NotStorable)
            {
                Assert.DoesNotThrow(() => run.LogMetric(key, 1), key);
                Assert.DoesNotThrow(() => run.LogParam(key, Value), key);
                Assert.DoesNotThrow(() => run.SetTag(key, Value), key);
            }

            run.Dispose();
        }

        var remote = server.SingleRun();
        lock (server.Runs)
        {
            Assert.That(remote.Metrics.Keys, Is.EquivalentTo(NotStorable), "nothing local to store them in: the server gets them");
        }
    }

    [Test]
    public async Task The_cache_of_checked_keys_does_not_carry_a_key_from_a_server_only_run_to_a_run_that_may_write_locally()
    {
        const string Key = "con"; // one interned instance: the same reference reaches both runs
        using var dir = new OfflineFallbackTests.Dir();
        using var server = new FakeMlflowServer();
        await using var serverOnly = ServerOnlyTracker(server);
        await using var local = MlflowTracker.Create(new MlflowTrackerOptions { TrackingUri = dir.Path, ExperimentName = "keys" });
        var lenient = serverOnly.StartRun("server-only");
        var strict = local.StartRun("local");
        for (var i = 0; i < 3; i++)
        {
            lenient.LogMetric(Key, i, i);
            var ex = Assert.Throws<MlflowValidationException>(() => strict.LogMetric(Key, i, i));
            Assert.That(ex!.Key, Is.SameAs(Key));
        }

        strict.Dispose();
        lenient.Dispose();
    }

    [Test]
    public void The_bulk_log_methods_refuse_the_same_keys_and_queue_the_rest()
    {
        using var dir = new OfflineFallbackTests.Dir();
        using var tracker = MlflowTracker.Create(new MlflowTrackerOptions { TrackingUri = dir.Path, ExperimentName = "keys" });
        using var run = tracker.StartRun("r");
        var metrics = Assert.Throws<MlflowValidationException>(() => run.LogMetrics([new("ok", 1), new("..a", 2), new("aux.txt", 3)]));
        Assert.That(metrics!.Key, Is.EqualTo("..a"));
        var @params = Assert.Throws<MlflowValidationException>(() => run.LogParams([new("p", 1), new("trail.", 2)]));
        Assert.That(@params!.Key, Is.EqualTo("trail."));
        var tags = Assert.Throws<MlflowValidationException>(() => run.SetTags([new("t", "v"), new("a//b", Value)]));
        Assert.That(tags!.Key, Is.EqualTo("a//b"));
        Assert.DoesNotThrowAsync(() => run.FlushAsync());
        var runDir = Path.Combine(dir.Path, run.ExperimentId, run.RunId);
        Assert.That(FileStoreTestBase.StoredKeys(runDir, "metrics"), Is.EqualTo(new[] { "ok" }));
        Assert.That(FileStoreTestBase.StoredKeys(runDir, "params"), Is.EqualTo(new[] { "p" }));
    }

    [Test]
    public void Checking_a_valid_key_by_either_rule_allocates_nothing()
    {
        // The log methods cache checked keys per thread; past 16 keys a call checks again, on the hot path.
        string[] keys = ["loss", "train/loss", "a/..b", "日本/語", new string('é', 127)];

        // The first pass compiles the loop (on-stack replacement compiles on this thread, and its runtime work was
        // counted: 368 B in one CI run); the second pass is the one measured.
        CheckKeysCountingAllocation(keys);
        Assert.That(CheckKeysCountingAllocation(keys), Is.Zero);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static long CheckKeysCountingAllocation(string[] keys)
    {
        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < 100; i++)
        {
            foreach (var key in keys)
            {
                FileStorePaths.ValidateKey(key, "metric key");
                MlflowValidation.ValidateKey(key, "metric key");
            }
        }

        return GC.GetAllocatedBytesForCurrentThread() - before;
    }

    private static MlflowTracker ServerOnlyTracker(FakeMlflowServer server)
    {
        var options = new MlflowTrackerOptions();
        options.Batching.ShutdownTimeout = TimeSpan.FromSeconds(10);
        var client = new MlflowClient(new MlflowClientOptions { TrackingUri = server.Url, RequestTimeout = TimeSpan.FromSeconds(5) });
        return new MlflowTracker(new RestTrackingStore(client, ownsClient: true), options, offline: null, EnvironmentReader.FromDictionary(new Dictionary<string, string>()), ownsStore: true, user: "tester");
    }

    /// <summary>Every log method refuses every key at once, naming the key and a rule, never the value.</summary>
    private static void AssertAllRefused(ActiveRun run, IEnumerable<string> keys)
    {
        Assert.Multiple(() =>
        {
            foreach (var key in keys)
            {
                var label = $"'{key}' ({key.Length} chars)";
                AssertRefused(() => run.LogMetric(key, 1.5, 0), key, "metric key", label);
                AssertRefused(() => run.LogParam(key, Value), key, "param key", label);
                AssertRefused(() => run.SetTag(key, Value), key, "tag key", label);
                AssertRefused(() => run.DeleteTag(key), key, "tag key", label);
            }
        });
    }

    private static void AssertRefused(TestDelegate call, string key, string subject, string label)
    {
        var ex = Assert.Throws<MlflowValidationException>(call, label);
        if (ex is null)
        {
            return;
        }

        Assert.That(ex.Key, Is.EqualTo(key), label);
        Assert.That(ex.Subject, Is.EqualTo(subject), label);
        Assert.That(ex.Rule, Is.Not.Empty, label);
        Assert.That(ex.Message, Does.Contain(ex.Rule!).And.Not.Contain(Value), label);
    }

    private static void LogAwkward(ActiveRun run)
    {
        foreach (var key in Awkward)
        {
            run.LogMetric(key, 1, 0);
            run.LogParam(key, "v");
            run.SetTag(key, "v");
        }
    }
}
