using System.Diagnostics;
using System.Globalization;
using Mlflow.Client.Offline;
using Mlflow.Client.Tests.Sync;
using NUnit.Framework;

namespace Mlflow.Client.Tests.Offline;

/// <summary>
/// Defect 7 of issue 10 in a child process: killed with SIGKILL while its local copy is being drained to a server that
/// hangs, a process loses nothing it flushed: its flushes keep returning, and what they returned for is on disk.
/// </summary>
[CancelAfter(120_000)]
[NonParallelizable]
public class OfflineDrainKillTests
{
    [Test]
    public async Task Killed_while_a_drain_hangs_loses_nothing_it_flushed()
    {
        using var dir = new OfflineFallbackTests.Dir();
        using var server = new FakeMlflowServer();
        var start = OfflineKillTests.TestApp(dir.Path, server.Url, "drain-kill");
        using var process = Process.Start(start)!;
        string? runId = null;
        var first = -1;
        var durable = 0;
        try
        {
            var ready = await ReadLineAsync(process);
            Assert.That(ready, Does.StartWith("ONLINE "), "the child started: " + ready);
            runId = ready!["ONLINE ".Length..];
            server.StopListening();
            await process.StandardInput.WriteLineAsync("down");
            await process.StandardInput.FlushAsync();
            Assert.That(await ReadLineAsync(process), Is.EqualTo("OFFLINE True"));

            // The server is back but hangs: the child's drain of its local copy waits on it (OfflineAfter is 60 s).
            server.Hang();
            server.StartListening();
            await process.StandardInput.WriteLineAsync("back");
            await process.StandardInput.FlushAsync();
            var sw = Stopwatch.StartNew();
            while (sw.Elapsed < TimeSpan.FromSeconds(30) && (first < 0 || durable < first + 2000))
            {
                var line = await ReadLineAsync(process, TimeSpan.FromSeconds(Math.Max(1, 30 - sw.Elapsed.TotalSeconds)));
                if (line is null)
                {
                    break;
                }

                if (line.Split(' ') is ["DURABLE", var n, _])
                {
                    durable = int.Parse(n, CultureInfo.InvariantCulture);
                    if (first < 0 && server.HungRequests > 0)
                    {
                        first = durable; // from here on a drain is hung
                    }
                }
            }

            Assert.That(first, Is.GreaterThanOrEqualTo(0), "a drain hung while the child flushed");
            Assert.That(durable, Is.GreaterThanOrEqualTo(first + 2000), "the child's flushes kept returning while the drain hung");
            Assert.That(server.HungRequests, Is.GreaterThan(0));
        }
        finally
        {
            process.Kill(entireProcessTree: true); // SIGKILL: no handler runs
            Assert.That(process.WaitForExit(10_000), Is.True);
            server.Release();
        }

        string clientKey;
        lock (server.Runs)
        {
            clientKey = server.Runs[runId!].Tags[OfflineMirror.ClientRunKeyTag];
        }

        // Everything logged offline and flushed before the kill is in the local copy (complete lines: what a later sync reads).
        var local = DrainWhileLoggingTests.LocalSteps(dir.Path, clientKey, "loss");
        var missing = Enumerable.Range(100, durable - 100).Select(i => (long)i).Where(s => !local.Contains(s)).ToList();
        Assert.That(missing, Is.Empty, $"flushed points missing from the local copy (of {durable})");
    }

    private static async Task<string?> ReadLineAsync(Process process, TimeSpan? timeout = null)
    {
        try
        {
            return await process.StandardOutput.ReadLineAsync().WaitAsync(timeout ?? TimeSpan.FromSeconds(30));
        }
        catch (TimeoutException)
        {
            return null;
        }
    }
}
