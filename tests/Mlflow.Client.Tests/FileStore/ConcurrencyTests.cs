using System.Diagnostics;
using Mlflow.Client.FileStore;

using NUnit.Framework;

namespace Mlflow.Client.Tests.FileStore;

/// <summary>
/// Concurrency. Most cross-process cases use a second <see cref="LocalFileStore"/> instance on other threads as the
/// stand-in for a second process: it has its own caches and its own file handles and lock-file handle (the lock is an
/// OS-level exclusive open, which conflicts between handles of one process as between processes); on Linux, flock(1)
/// also holds the store's lock from a real second process.
/// </summary>
internal sealed class ConcurrencyTests : FileStoreTestBase
{
    [Test]
    public async Task Many_threads_logging_to_one_run_write_whole_lines_only()
    {
        var (exp, run) = await NewRunAsync();
        const int Threads = 8, Batches = 50, PerBatch = 100;
        using var second = new LocalFileStore(Root);
        var tasks = Enumerable.Range(0, Threads).Select(t => Task.Run(async () =>
        {
            var store = t % 2 == 0 ? Store : second;
            for (var b = 0; b < Batches; b++)
            {
                var batch = Enumerable.Range(0, PerBatch).Select(i => new Metric(i % 2 == 0 ? "shared" : "k" + t, t * 1_000_000 + b * PerBatch + i, 1_700_000_000_000 + i, b)).ToList();
                await store.LogBatchAsync(run.Info.RunId, batch, [], [new Tag("last", t.ToString(System.Globalization.CultureInfo.InvariantCulture))], CancellationToken.None);
            }
        })).ToArray();
        Assert.That(Task.WaitAll(tasks, TimeSpan.FromSeconds(120)), Is.True, "timed out");

        var shared = File.ReadAllText(Path.Combine(Root, exp, run.Info.RunId, "metrics", "shared"));
        Assert.That(shared, Does.EndWith("\n"));
        var lines = shared.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.That(lines, Has.Length.EqualTo(Threads * Batches * PerBatch / 2));
        Assert.That(lines.All(l => MetricLine.TryParse(l, out _)), Is.True, "no torn or interleaved line");
        var values = lines.Select(l => double.Parse(l.Split(' ')[1], System.Globalization.CultureInfo.InvariantCulture)).ToHashSet();
        Assert.That(values, Has.Count.EqualTo(lines.Length), "every point exactly once");
        for (var t = 0; t < Threads; t++)
        {
            var history = await Store.GetMetricHistoryAsync(run.Info.RunId, "k" + t, None);
            Assert.That(history, Has.Count.EqualTo(Batches * PerBatch / 2));
            Assert.That(history.Select(m => m.Value), Is.Ordered, "a thread's points stay in its logged order");
        }

        Assert.That(Store.TornLinesSkipped + second.TornLinesSkipped, Is.Zero);
    }

    [Test]
    public async Task Two_store_instances_log_to_different_runs_of_one_store()
    {
        using var other = new LocalFileStore(Root);
        var exp = await Store.CreateExperimentAsync("shared", null, null, None);
        var runA = await Store.CreateRunAsync(exp, "a", 1, null, null, None);
        var runB = await other.CreateRunAsync(exp, "b", 2, null, null, None);
        var a = Task.Run(async () =>
        {
            for (var i = 0; i < 200; i++)
            {
                await Store.LogBatchAsync(runA.Info.RunId, [new Metric("m", i, i, i)], [new Param("p" + i, "a")], [], CancellationToken.None);
            }
        });
        var b = Task.Run(async () =>
        {
            for (var i = 0; i < 200; i++)
            {
                await other.LogBatchAsync(runB.Info.RunId, [new Metric("m", -i, i, i)], [], [new Tag("t" + i, "b")], CancellationToken.None);
            }
        });
        Assert.That(Task.WaitAll([a, b], TimeSpan.FromSeconds(120)), Is.True, "timed out");
        Assert.That(await other.GetMetricHistoryAsync(runA.Info.RunId, "m", None), Has.Count.EqualTo(200));
        Assert.That((await Store.GetRunAsync(runB.Info.RunId, None)).Data.Tags, Has.Count.EqualTo(201));
        var runs = await other.SearchRunsAsync(new RunSearchOptions { ExperimentIds = [exp] }, null, None);
        Assert.That(runs.Items.Select(r => r.Info.RunName), Is.EqualTo(new[] { "b", "a" }));
    }

    [Test]
    public async Task Concurrent_creators_of_one_name_end_with_one_experiment()
    {
        using var other = new LocalFileStore(Root);
        const int Creators = 8;
        var results = new string?[Creators];
        var errors = new Exception?[Creators];
        using var start = new ManualResetEventSlim();
        var threads = Enumerable.Range(0, Creators).Select(i => new Thread(() =>
        {
            start.Wait(TimeSpan.FromSeconds(30));
            try
            {
                results[i] = (i % 2 == 0 ? Store : other).CreateExperimentAsync("same-name", null, null, CancellationToken.None).GetAwaiter().GetResult();
            }
            catch (MlflowException ex)
            {
                errors[i] = ex;
            }
        })).ToArray();
        foreach (var t in threads)
        {
            t.Start();
        }

        start.Set();
        foreach (var t in threads)
        {
            Assert.That(t.Join(TimeSpan.FromSeconds(60)), Is.True, "timed out");
        }

        Assert.That(results.Count(r => r is not null), Is.EqualTo(1));
        Assert.That(errors.Count(e => e is MlflowException { ErrorCode: MlflowErrorCode.ResourceAlreadyExists }), Is.EqualTo(Creators - 1));
        var all = await Store.SearchExperimentsAsync(new ExperimentSearchOptions { Filter = "name = 'same-name'", ViewType = ViewType.All }, null, None);
        Assert.That(all.Items, Has.Count.EqualTo(1));

        // Distinct names created concurrently all succeed with distinct ids.
        var distinct = await Task.WhenAll(Enumerable.Range(0, 16).Select(i => Task.Run(() => (i % 2 == 0 ? Store : other).CreateExperimentAsync("n" + i, null, null, CancellationToken.None))));
        Assert.That(distinct.Distinct().Count(), Is.EqualTo(16));
        Assert.That(EntryKinds(Root), Is.EqualTo(EntryKinds(MlflowExample)), "the lock is kept out of the store root");
        Assert.That(File.Exists(StoreRootLock.PathFor(Root)), Is.True, "the lock both instances took");
    }

    [Test]
    public async Task A_held_store_lock_blocks_creation_until_released()
    {
        var kept = await Store.CreateExperimentAsync("kept", null, null, None);
        using var impatient = new LocalFileStore(Root) { LockTimeout = TimeSpan.FromMilliseconds(200) };
        var held = StoreRootLock.Acquire(Root, TimeSpan.FromSeconds(10), None);
        try
        {
            var ex = Assert.ThrowsAsync<MlflowException>(() => impatient.CreateExperimentAsync("waits", null, null, None));
            Assert.That(ex!.Message, Does.Contain("Could not lock the local store"));
            ex = Assert.ThrowsAsync<MlflowException>(() => impatient.DeleteExperimentAsync(kept, None));
            Assert.That(ex!.Message, Does.Contain("Could not lock the local store"));
        }
        finally
        {
            held.Dispose();
        }

        Assert.That(await Store.GetExperimentByNameAsync("waits", None), Is.Null, "nothing was created while the lock was held");
        Assert.That((await Store.GetExperimentAsync(kept, None)).LifecycleStage, Is.EqualTo(LifecycleStage.Active), "nor deleted");
        var id = await impatient.CreateExperimentAsync("waits", null, null, None);
        Assert.That(Directory.Exists(Path.Combine(Root, id)), Is.True);
    }

    [Test]
    public async Task Another_process_holding_the_store_lock_blocks_creation_until_it_ends()
    {
        const string FlockTool = "/usr/bin/flock";
        if (!OperatingSystem.IsLinux() || !File.Exists(FlockTool))
        {
            Assert.Ignore("needs util-linux flock(1) to hold the lock from another process");
        }

        await Store.CreateExperimentAsync("first", null, null, None); // the store creates its lock file
        var start = new ProcessStartInfo(FlockTool) { RedirectStandardOutput = true, UseShellExecute = false };
        foreach (var arg in new[] { "--exclusive", "--close", StoreRootLock.PathFor(Root), "sh", "-c", "echo held; exec sleep 60" })
        {
            start.ArgumentList.Add(arg);
        }

        using var impatient = new LocalFileStore(Root) { LockTimeout = TimeSpan.FromMilliseconds(200) };
        using (var holder = Process.Start(start)!)
        {
            try
            {
                Assert.That(await holder.StandardOutput.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(30)), Is.EqualTo("held"));
                var ex = Assert.ThrowsAsync<MlflowException>(() => impatient.CreateExperimentAsync("waits", null, null, None));
                Assert.That(ex!.Message, Does.Contain("Could not lock the local store"));
            }
            finally
            {
                holder.Kill(entireProcessTree: true);
                Assert.That(holder.WaitForExit(10_000), Is.True);
            }
        }

        var id = await impatient.CreateExperimentAsync("waits", null, null, None);
        Assert.That(Directory.Exists(Path.Combine(Root, id)), Is.True);
    }
}
