using System.Collections.Concurrent;
using Mlflow.Client.FileStore;
using NUnit.Framework;

namespace Mlflow.Client.Tests.FileStore;

/// <summary><see cref="LocalFileStore.FlushToDisk"/> forces the whole files written since the previous call, not only metric files.</summary>
[TestFixture]
[CancelAfter(30_000)]
internal sealed class FlushToDiskTests : FileStoreTestBase
{
    private LocalFileStore Tracked(int max = 4096) => new(Root) { TrackFilesForFlushToDisk = true, MaxFilesAwaitingFlushToDisk = max };

    private static ConcurrentBag<string> Observe(LocalFileStore store)
    {
        var flushed = new ConcurrentBag<string>();
        store.FileFlushedToDisk = flushed.Add;
        return flushed;
    }

    private static async Task<(LocalFileStore Store, string RunId, string RunDir)> TrackedRunAsync(LocalFileStore store)
    {
        var exp = await store.CreateExperimentAsync("durable-" + Guid.NewGuid().ToString("N")[..8], null, null, None);
        var run = await store.CreateRunAsync(exp, "r", 1_700_000_000_000, null, "tester", None);
        return (store, run.Info.RunId, store.GetRunDirectory(run.Info.RunId));
    }

    [Test]
    public async Task Params_tags_and_meta_written_are_forced_to_disk_at_the_next_flush_and_only_once()
    {
        using var store = Tracked();
        var flushed = Observe(store);
        var (_, runId, runDir) = await TrackedRunAsync(store);
        var runMeta = Path.Combine(runDir, LocalFileStore.MetaFileName);
        Assert.That(store.FilesAwaitingFlushToDisk, Does.Contain(runMeta), "the new run's meta.yaml");
        store.FlushToDisk();
        Assert.That(flushed, Does.Contain(runMeta));
        Assert.That(store.FilesAwaitingFlushToDisk, Is.Empty);
        flushed.Clear();

        await store.LogBatchAsync(runId, [new Metric("loss", 0.5, 1, 0)], [new Param("lr", "0.1")], [new Tag("note", "x")], None);
        await store.LogBatchAsync(runId, [], [], [new Tag("note", "y")], None); // rewritten: awaited once
        var param = Path.Combine(runDir, "params", "lr");
        var tag = Path.Combine(runDir, "tags", "note");
        Assert.That(store.FilesAwaitingFlushToDisk, Is.EquivalentTo(new[] { param, tag }), "metric appends are not tracked (their handles are flushed)");

        var before = store.FilesFlushedToDisk;
        store.FlushToDisk();
        Assert.That(store.FilesAwaitingFlushToDisk, Is.Empty);
        Assert.That(flushed, Is.EquivalentTo(new[] { param, tag }), "each file written since the last flush was forced to disk");
        Assert.That(store.FilesFlushedToDisk, Is.EqualTo(before + 2));
        Assert.That(Text(param), Is.EqualTo("0.1"), "forcing does not change the content");
        Assert.That(Text(tag), Is.EqualTo("y"));

        store.FlushToDisk();
        Assert.That(store.FilesFlushedToDisk, Is.EqualTo(before + 2), "nothing written since: nothing forced");
    }

    [Test]
    public async Task Status_update_rewrites_meta_yaml_which_the_next_flush_forces()
    {
        using var store = Tracked();
        var (_, runId, runDir) = await TrackedRunAsync(store);
        store.FlushToDisk();
        var flushed = Observe(store);
        await store.UpdateRunAsync(runId, RunStatus.Finished, 1_700_000_001_000, null, None);
        Assert.That(store.FilesAwaitingFlushToDisk, Is.EqualTo(new[] { Path.Combine(runDir, LocalFileStore.MetaFileName) }));
        store.FlushToDisk();
        Assert.That(flushed, Is.EqualTo(new[] { Path.Combine(runDir, LocalFileStore.MetaFileName) }));
    }

    [Test]
    public async Task A_file_deleted_before_the_flush_is_skipped()
    {
        using var store = Tracked();
        var (_, runId, _) = await TrackedRunAsync(store);
        store.FlushToDisk();
        var flushed = Observe(store);
        await store.LogBatchAsync(runId, [], [], [new Tag("gone", "x")], None);
        await store.DeleteTagAsync(runId, "gone", None);
        Assert.DoesNotThrow(store.FlushToDisk);
        Assert.That(flushed, Is.Empty);
        Assert.That(store.FilesAwaitingFlushToDisk, Is.Empty);
    }

    [Test]
    public async Task Beyond_the_bound_a_file_is_forced_at_once()
    {
        using var store = Tracked(max: 2);
        var (_, runId, runDir) = await TrackedRunAsync(store);
        store.FlushToDisk();
        var flushed = Observe(store);
        foreach (var key in new[] { "a", "b", "c" })
        {
            await store.LogBatchAsync(runId, [], [], [new Tag(key, key)], None);
        }

        Assert.That(store.FilesAwaitingFlushToDisk, Has.Count.EqualTo(2));
        Assert.That(flushed, Is.EqualTo(new[] { Path.Combine(runDir, "tags", "c") }), "the set is full: forced when written");
        store.FlushToDisk();
        Assert.That(flushed, Has.Count.EqualTo(3));
        Assert.That(store.FilesAwaitingFlushToDisk, Is.Empty);
    }

    [Test]
    public async Task Files_written_by_others_are_forced_when_marked()
    {
        using var store = Tracked();
        var (_, _, runDir) = await TrackedRunAsync(store);
        store.FlushToDisk();
        var flushed = Observe(store);
        var journal = Path.Combine(runDir, ".mlflow-dotnet", "sync-test.json");
        Directory.CreateDirectory(Path.GetDirectoryName(journal)!);
        await File.WriteAllTextAsync(journal, "{}");
        store.MarkForFlushToDisk(journal);
        store.MarkForFlushToDisk(journal);
        Assert.That(store.FilesAwaitingFlushToDisk, Is.EqualTo(new[] { journal }));
        store.FlushToDisk();
        Assert.That(flushed, Is.EqualTo(new[] { journal }));
    }

    [Test]
    public async Task An_untracked_store_remembers_nothing()
    {
        var (_, run) = await NewRunAsync();
        await Store.LogBatchAsync(run.Info.RunId, [], [new Param("p", "1")], [new Tag("t", "1")], None);
        Assert.That(Store.FilesAwaitingFlushToDisk, Is.Empty);
        Store.FlushToDisk();
        Assert.That(Store.FilesFlushedToDisk, Is.Zero);
    }
}
