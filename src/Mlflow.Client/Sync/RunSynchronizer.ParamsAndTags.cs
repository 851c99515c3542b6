// Steps 2 and 3, params and tags: params sent once (conflicts reported), tags upserted, tag deletions recorded offline applied.
using Mlflow.Client.FileStore;

namespace Mlflow.Client.Sync;

internal sealed partial class RunSynchronizer
{
    private const int MaxParamsPerBatch = MlflowLimits.MaxParamsPerBatch;
    private const int MaxTagsPerBatch = MlflowLimits.MaxTagsPerBatch;

    private static async Task SendParamsAsync(MlflowClient target, RunState s, CancellationToken ct)
    {
        var journal = s.Journal!;
        var pending = s.Local!.Data.Params
            .Where(p => !journal.Params.TryGetValue(p.Key, out var h) || h != SyncJournal.Hash(p.Value))
            .GroupBy(p => p.Key, StringComparer.Ordinal).Select(g => g.First()) // one key once per batch: the server refuses repeats
            .ToList();
        foreach (var chunk in pending.Chunk(MaxParamsPerBatch))
        {
            // Each round either delivers the rest or removes at least one param from it (bounded by the chunk).
            var rest = chunk.ToList();
            while (rest.Count > 0)
            {
                try
                {
                    await target.LogBatchAsync(s.ServerRunId!, null, rest, null, ct).ConfigureAwait(false);
                    MarkParams(s, rest);
                    rest.Clear();
                }
                catch (MlflowException ex) when (ex.RejectsInput)
                {
                    // A refused batch (400 "Changing param values", or 500 from a file-backed server) or a partial write:
                    // what the server holds decides. Equal values are done; different ones are conflicts; the rest is sent.
                    var server = await target.GetRunAsync(s.ServerRunId!, ct).ConfigureAwait(false);
                    var onServer = server.Data.Params.ToDictionary(p => p.Key, p => p.Value, StringComparer.Ordinal);
                    var before = rest.Count;
                    var done = rest.Where(p => onServer.TryGetValue(p.Key, out var v) && v == p.Value).ToList();
                    MarkParams(s, done);
                    foreach (var conflict in rest.Where(p => onServer.TryGetValue(p.Key, out var v) && v != p.Value))
                    {
                        s.Errors.Add($"Param '{conflict.Key}' has another value on the server run {s.ServerRunId}; params cannot change, so it was not sent.");
                    }

                    rest = rest.Where(p => !onServer.ContainsKey(p.Key)).ToList();
                    if (rest.Count == before)
                    {
                        throw; // nothing explained by the server's state: the batch itself is refused
                    }
                }
            }
        }
    }

    private static void MarkParams(RunState s, IEnumerable<Param> sent)
    {
        foreach (var p in sent)
        {
            s.Journal!.Params[p.Key] = SyncJournal.Hash(p.Value);
            s.ParamsSent++;
        }

        s.Journal!.Save(s.JournalPath!);
    }

    private async Task SendTagsAsync(LocalFileStore source, MlflowClient target, RunState s, CancellationToken ct)
    {
        var desired = new List<Tag>();
        foreach (var tag in s.Local!.Data.Tags)
        {
            if (tag.Key is SourceRunIdTag or SourceStoreTag)
            {
                continue;
            }

            if (tag.Key == ParentRunIdTag && tag.Value.Length > 0)
            {
                desired.Add(tag with { Value = await ServerParentIdAsync(source, target, tag.Value, s, ct).ConfigureAwait(false) });
                continue;
            }

            desired.Add(tag);
        }

        desired.Add(new Tag(SourceRunIdTag, s.LocalRunId));
        desired.Add(new Tag(SourceStoreTag, SyncJournal.Hash(source.RootDirectory)));
        var journal = s.Journal!;
        var pending = desired.Where(t => !journal.Tags.TryGetValue(t.Key, out var h) || h != SyncJournal.Hash(t.Value)).ToList();
        foreach (var chunk in pending.Chunk(MaxTagsPerBatch))
        {
            // Without an answer the chunk stays pending: the next sync sends it again (tags are upserts).
            await target.LogBatchAsync(s.ServerRunId!, null, null, chunk, ct).ConfigureAwait(false);
            foreach (var t in chunk)
            {
                journal.Tags[t.Key] = SyncJournal.Hash(t.Value);
                if (t.Key is not (SourceRunIdTag or SourceStoreTag))
                {
                    s.TagsSent++;
                }
            }

            journal.Save(s.JournalPath!);
        }
    }

    /// <summary>
    /// Applies the tag deletions the journal records (<see cref="SyncJournal.TagDeletes"/>, written by the offline
    /// fallback): a key absent from the local run is deleted on the server (already absent counts as done); a key set
    /// again locally was just sent by <see cref="SendTagsAsync"/> and is only dropped from the list. The journal is saved
    /// after each key, so a crash repeats at most one deletion. A refusal is reported and the key stays pending; no answer
    /// (after the client's retries; a lost answer is settled by the client reading the run back) is thrown, like a tag
    /// send that gets none.
    /// </summary>
    private static async Task DeleteTagsAsync(MlflowClient target, RunState s, CancellationToken ct)
    {
        var journal = s.Journal!;
        if (journal.TagDeletes.Count == 0)
        {
            return;
        }

        var local = s.Local!.Data.Tags.Select(t => t.Key).ToHashSet(StringComparer.Ordinal);
        foreach (var key in journal.TagDeletes.ToList())
        {
            if (!local.Contains(key))
            {
                try
                {
                    await target.DeleteTagAsync(s.ServerRunId!, key, ct).ConfigureAwait(false);
                    s.TagsDeleted++;
                }
                catch (MlflowException ex) when (ex.ErrorCode == MlflowErrorCode.ResourceDoesNotExist)
                {
                    // already absent (deleted twice): done
                }
                catch (MlflowException ex) when (!ex.IsTransient)
                {
                    s.Errors.Add($"Tag '{key}' (deleted locally) was not deleted on the server run {s.ServerRunId}: {ex.Message}");
                    continue;
                }

                journal.Tags.Remove(key);
            }

            journal.TagDeletes.Remove(key);
            journal.Save(s.JournalPath!);
        }
    }
}
