using System.Diagnostics;
using System.Globalization;
using Mlflow.Client.FileStore;
using Mlflow.Client.Sync;
using Mlflow.Client.Tests.Infrastructure;
using Mlflow.Client.Tests.Sync;
using NUnit.Framework;

namespace Mlflow.Client.Tests.Offline;

/// <summary>A process logging offline is killed with SIGKILL; a sync then delivers everything up to its last durable flush, once.</summary>
[CancelAfter(120_000)]
[NonParallelizable]
public class OfflineKillTests
{
    /// <summary>How to start tests/Mlflow.Client.TestApp (built with the tests) with <paramref name="args"/>, its offline store in <paramref name="offlineDir"/>.</summary>
    internal static ProcessStartInfo TestApp(string offlineDir, params string[] args)
    {
        var config = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar)).Parent!.Name;
        var app = Path.Combine(RepoPaths.RepoRoot, "tests", "Mlflow.Client.TestApp", "bin", config, "net10.0", "Mlflow.Client.TestApp.dll");
        Assert.That(File.Exists(app), Is.True, app);
        var start = new ProcessStartInfo("dotnet") { RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add(app);
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        start.Environment[MlflowEnvironmentVariables.OfflineDir] = offlineDir;
        return start;
    }

    [Test]
    public async Task Killed_offline_process_loses_nothing_before_its_last_durable_write()
    {
        using var dir = new OfflineFallbackTests.Dir();
        using var server = new FakeMlflowServer();
        server.StopListening(); // unreachable for the whole life of the child
        var start = TestApp(dir.Path, server.Url, "offline-kill");
        using var process = Process.Start(start)!;
        string? runId = null;
        var durable = 0;
        try
        {
            var sw = Stopwatch.StartNew();
            while (durable < 2000 && sw.Elapsed < TimeSpan.FromSeconds(60))
            {
                var line = await process.StandardOutput.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(60));
                if (line is null)
                {
                    break;
                }

                var parts = line.Split(' ');
                if (parts is ["DURABLE", _, _])
                {
                    runId = parts[1];
                    durable = int.Parse(parts[2], CultureInfo.InvariantCulture);
                }
            }

            Assert.That(durable, Is.GreaterThanOrEqualTo(2000), "the child reported durable flushes: " + await process.StandardError.ReadToEndAsync().WaitAsync(TimeSpan.FromSeconds(1)).ContinueWith(t => t.IsCompletedSuccessfully ? t.Result : ""));
        }
        finally
        {
            process.Kill(entireProcessTree: true); // SIGKILL: no handler runs
            Assert.That(process.WaitForExit(10_000), Is.True);
        }

        // The store reads fine (a torn last line at most, which readers skip).
        using (var store = new LocalFileStore(dir.Path))
        {
            var run = await store.GetRunAsync(runId!, CancellationToken.None);
            Assert.That(run.Info.Status, Is.EqualTo(RunStatus.Running));
            var local = store.ReadMetricFile(Path.Combine(store.GetRunDirectory(runId!), "metrics", "loss"), "loss");
            Assert.That(local, Has.Count.GreaterThanOrEqualTo(durable));
            Assert.That(local.Select(m => m.Step), Is.EqualTo(Enumerable.Range(0, local.Count).Select(i => (long)i)));
            Assert.That(run.Data.Tags.Select(t => t.Key), Does.Contain("kept").And.Not.Contain("doomed"));
            var journal = Directory.GetFiles(Path.Combine(store.GetRunDirectory(runId!), SyncJournal.FolderName), "sync-*.json").Single();
            Assert.That(SyncJournal.Load(journal).TagDeletes, Is.EqualTo(new[] { "doomed" }), "the deletion outlived the process");
        }

        server.StartListening();
        var summary = await MlflowSync.SyncAsync(new SyncOptions { From = dir.Path, To = server.Url });
        Assert.That(summary.Complete, Is.True, string.Join("; ", summary.Errors));
        var remote = server.RunBySource(runId!);
        var steps = remote.Metrics["loss"].Select(p => p.Step).ToList();
        Assert.That(steps, Has.Count.GreaterThanOrEqualTo(durable), "everything up to the last durable write arrived");
        // Once each; arrival order is the server's (the sync keeps two batches in flight, as the tracker does).
        Assert.That(steps.Order(), Is.EqualTo(Enumerable.Range(0, steps.Count).Select(i => (long)i)), "once each");
        Assert.That(remote.Params["mode"], Is.EqualTo("offline-kill"));
        Assert.That(remote.Tags["kept"], Is.EqualTo("y"));
        Assert.That(remote.Tags, Does.Not.ContainKey("doomed"), "deleted before the kill");
        Assert.That(server.Runs, Has.Count.EqualTo(1));
    }
}
