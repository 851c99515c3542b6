using Microsoft.Extensions.Logging;

namespace Mlflow.Client.Batching;

/// <summary>What happened to the entries of one tracker, counted where it happens (the sender and the sink layers).</summary>
internal sealed class LogCounters(ILogger logger)
{
    private long _sent;
    private long _failed;
    private long _spilled;
    private long _offline;

    public long Sent => Interlocked.Read(ref _sent);

    public long Failed => Interlocked.Read(ref _failed);

    public long Spilled => Interlocked.Read(ref _spilled);

    public long Offline => Interlocked.Read(ref _offline);

    public void AddSent(long n) => Interlocked.Add(ref _sent, n);

    public void AddSpilled() => Interlocked.Increment(ref _spilled);

    /// <summary>Entries written to a local copy instead of being sent.</summary>
    public void AddOffline(long n) => Interlocked.Add(ref _offline, n);

    /// <summary>
    /// Entries a drain delivered move from offline to sent. A drain also sends the tags a run started offline was
    /// created with, which were never counted as logged: the move is capped by what is offline.
    /// </summary>
    public void MoveOfflineToSent(long delivered)
    {
        while (delivered > 0)
        {
            var offline = Interlocked.Read(ref _offline);
            var moved = Math.Min(delivered, offline);
            if (moved <= 0)
            {
                return;
            }

            if (Interlocked.CompareExchange(ref _offline, offline - moved, offline) == offline)
            {
                Interlocked.Add(ref _sent, moved);
                return;
            }
        }
    }

    /// <summary>Reports an entry that was refused or given up on, through its run and the log.</summary>
    public void Reject(RunBuffer run, in LogEntry entry, string reason)
    {
        Interlocked.Increment(ref _failed);
        run.AddRejection(new RejectedLogEntry(entry.KindName, entry.Key, reason));
        TrackingLog.EntryRejected(logger, entry.KindName, entry.Key, run.RunId, reason);
    }
}
