// Step 1, the run on the server: its experiment, the server run found by its source tag or created, and the parent run's server id.
using Mlflow.Client.FileStore;

namespace Mlflow.Client.Sync;

internal sealed partial class RunSynchronizer
{
    private async Task<string> ResolveExperimentAsync(LocalFileStore source, MlflowClient target, string localExperimentId, CancellationToken ct)
    {
        if (_serverExperimentIds.TryGetValue(localExperimentId, out var known))
        {
            return known;
        }

        if (_experimentFailures.TryGetValue(localExperimentId, out var failure))
        {
            throw new InvalidOperationException(failure);
        }

        var local = await source.GetExperimentAsync(localExperimentId, ct).ConfigureAwait(false);
        var found = await target.GetExperimentByNameAsync(local.Name, ct).ConfigureAwait(false);
        if (found is null)
        {
            try
            {
                var id = await target.CreateExperimentAsync(local.Name, null, local.Tags.Count == 0 ? null : local.Tags, ct).ConfigureAwait(false);
                SyncLog.ExperimentCreated(_logger, local.Name, id);
                _serverExperimentIds[localExperimentId] = id;
                return id;
            }
            catch (MlflowException ex) when (ex.ErrorCode == MlflowErrorCode.ResourceAlreadyExists || ex.OutcomeUnknown)
            {
                // Created meanwhile, or by this very request without its answer: the server's state decides.
                found = await target.GetExperimentByNameAsync(local.Name, ct).ConfigureAwait(false);
                if (found is null)
                {
                    throw;
                }
            }
        }

        if (found.LifecycleStage == LifecycleStage.Deleted)
        {
            // Restoring it would resurrect what someone deleted on purpose: refuse and say how to proceed.
            var message = $"The server experiment '{local.Name}' (id {found.ExperimentId}) is deleted. Restore it on the server (mlflow experiments restore --experiment-id {found.ExperimentId}) or rename the local experiment, then sync again.";
            _experimentFailures[localExperimentId] = message;
            throw new InvalidOperationException(message);
        }

        _serverExperimentIds[localExperimentId] = found.ExperimentId;
        return found.ExperimentId;
    }

    private async Task<Run> FindOrCreateRunAsync(LocalFileStore source, MlflowClient target, string experimentId, RunState s, CancellationToken ct)
    {
        var journal = s.Journal!;
        if (journal.ServerRunId is { } knownId)
        {
            Run? run;
            try
            {
                run = await target.GetRunAsync(knownId, ct).ConfigureAwait(false);
            }
            catch (MlflowException ex) when (ex.ErrorCode == MlflowErrorCode.ResourceDoesNotExist)
            {
                run = null;
            }

            if (run is not null)
            {
                return CheckActive(run);
            }

            SyncLog.JournalStale(_logger, s.LocalRunId, knownId);
            journal.Reset();
        }

        if (await FindBySourceTagAsync(target, experimentId, s.LocalRunId, ct).ConfigureAwait(false) is { } found)
        {
            SyncLog.RunFoundByTag(_logger, s.LocalRunId, found.Info.RunId);
            // Nothing is known about what it holds: check every local point against its history first.
            MarkAllInFlight(s);
            return CheckActive(found);
        }

        var local = s.Local!;
        var tags = new List<Tag>
        {
            new(SourceRunIdTag, s.LocalRunId),
            new(SourceStoreTag, SyncJournal.Hash(source.RootDirectory)),
        };
        Run created;
        try
        {
            created = await target.CreateRunAsync(
                experimentId,
                string.IsNullOrEmpty(local.Info.RunName) ? null : local.Info.RunName,
                local.Info.StartTime ?? DateTimeOffset.UtcNow.ToUnixTimeMilliseconds(),
                tags,
                local.Info.UserId,
                ct).ConfigureAwait(false);
        }
        catch (MlflowException ex) when (ex.OutcomeUnknown)
        {
            // The create may have landed without its answer: its source tag finds it (a second create would make a
            // second run). Not found: it was not applied, and the next sync creates it.
            var landed = await FindBySourceTagAsync(target, experimentId, s.LocalRunId, ct).ConfigureAwait(false);
            if (landed is null)
            {
                throw;
            }

            SyncLog.RunFoundByTag(_logger, s.LocalRunId, landed.Info.RunId);
            created = landed;
        }

        s.Created = true;
        foreach (var t in tags)
        {
            journal.Tags[t.Key] = SyncJournal.Hash(t.Value);
        }

        return created;
    }

    /// <summary>
    /// The server run of a local run: tagged with its id as source (created by a sync), or as client key (created by a
    /// tracker whose answer was lost, the run then started offline under that key).
    /// </summary>
    private static async Task<Run?> FindBySourceTagAsync(MlflowClient target, string experimentId, string localRunId, CancellationToken ct)
        => await FindByTagAsync(target, experimentId, SourceRunIdTag, localRunId, ct).ConfigureAwait(false)
            ?? await FindByTagAsync(target, experimentId, Offline.OfflineMirror.ClientRunKeyTag, localRunId, ct).ConfigureAwait(false);

    private static async Task<Run?> FindByTagAsync(MlflowClient target, string experimentId, string tag, string value, CancellationToken ct)
    {
        var page = await target.SearchRunsAsync(new RunSearchOptions
        {
            ExperimentIds = [experimentId],
            Filter = $"tags.`{tag}` = '{value}'",
            ViewType = ViewType.All,
            MaxResults = 10,
            OrderBy = ["attributes.start_time ASC"],
        }, null, ct).ConfigureAwait(false);
        return page.Items.Count == 0
            ? null
            : page.Items.FirstOrDefault(r => r.Info.LifecycleStage == LifecycleStage.Active) ?? page.Items[0];
    }

    private static Run CheckActive(Run run)
        => run.Info.LifecycleStage == LifecycleStage.Deleted
            ? throw new InvalidOperationException($"The server run {run.Info.RunId} this local run was synced to is deleted; restore it on the server (or delete it for good with 'mlflow gc'), then sync again.")
            : run;

    /// <summary>The server id of a parent run: from this session, its journal, or a search by its source tag.</summary>
    private async Task<string> ServerParentIdAsync(LocalFileStore source, MlflowClient? target, string localParentId, RunState s, CancellationToken ct)
    {
        if (_serverRunIds.TryGetValue(localParentId, out var id))
        {
            return id;
        }

        string parentDir;
        try
        {
            parentDir = source.GetRunDirectory(localParentId);
        }
        catch (Exception ex) when (ex is MlflowException { ErrorCode: MlflowErrorCode.ResourceDoesNotExist } or ArgumentException)
        {
            return localParentId; // not a local run: it already names a server run (a run resumed offline)
        }

        if (SyncJournal.Load(SyncJournal.PathFor(parentDir, _targetKey)).ServerRunId is { } fromJournal)
        {
            return fromJournal;
        }

        if (target is not null && s.Journal?.ServerExperimentId is { } experimentId
            && await FindBySourceTagAsync(target, experimentId, localParentId, ct).ConfigureAwait(false) is { } found)
        {
            _serverRunIds[localParentId] = found.Info.RunId;
            return found.Info.RunId;
        }

        if (target is null)
        {
            return localParentId; // dry run: the parent is not on the server yet
        }

        throw new InvalidOperationException($"The parent run {localParentId} of this run is not on the server yet (it failed or was not selected); sync it first.");
    }
}
