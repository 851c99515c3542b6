// Starting runs (StartRun, Run, RunAsync), their system tags and value checks, and the list of active runs.
using Mlflow.Client.Batching;

namespace Mlflow.Client;

public sealed partial class MlflowTracker
{
    /// <summary>Starts a run (a <c>runs/create</c> call) in the current experiment.</summary>
    /// <param name="runName">The name; generated (<c>adjective-noun-N</c>) when <see langword="null"/>.</param>
    /// <param name="tags">Extra tags; they override the system tags.</param>
    /// <returns>The run; dispose it to end it.</returns>
    public ActiveRun StartRun(string? runName = null, IEnumerable<KeyValuePair<string, string>>? tags = null)
        => StartRunCoreAsync(runName, tags, null, CancellationToken.None).GetAwaiter().GetResult();

    /// <inheritdoc cref="StartRun(string?, IEnumerable{KeyValuePair{string, string}}?)"/>
    /// <param name="runName">The name; generated when <see langword="null"/>.</param>
    /// <param name="tags">Extra tags; they override the system tags.</param>
    /// <param name="cancellationToken">Cancels the creation.</param>
    public Task<ActiveRun> StartRunAsync(string? runName = null, IEnumerable<KeyValuePair<string, string>>? tags = null, CancellationToken cancellationToken = default)
        => StartRunCoreAsync(runName, tags, null, cancellationToken);

    /// <summary>Runs <paramref name="body"/> in a new run: FINISHED when it returns, FAILED (and rethrown) when it throws.</summary>
    /// <param name="runName">The run name; generated when <see langword="null"/>.</param>
    /// <param name="body">The work.</param>
    public void Run(string? runName, Action<ActiveRun> body)
    {
        ArgumentNullException.ThrowIfNull(body);
        var run = StartRun(runName);
        try
        {
            body(run);
        }
        catch (Exception ex)
        {
            FailQuietly(run, ex);
            throw;
        }

        run.Dispose();
    }

    /// <summary>Runs <paramref name="body"/> in a new run: FINISHED when it completes, FAILED (and rethrown) when it throws.</summary>
    /// <param name="runName">The run name; generated when <see langword="null"/>.</param>
    /// <param name="body">The work.</param>
    /// <param name="cancellationToken">Cancels starting the run.</param>
    /// <returns>A task that completes when the run has ended.</returns>
    public async Task RunAsync(string? runName, Func<ActiveRun, Task> body, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(body);
        var run = await StartRunAsync(runName, null, cancellationToken).ConfigureAwait(false);
        try
        {
            await body(run).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            FailQuietly(run, ex);
            throw;
        }

        await run.DisposeAsync().ConfigureAwait(false);
    }

    internal async Task<ActiveRun> StartRunCoreAsync(string? runName, IEnumerable<KeyValuePair<string, string>>? tags, ActiveRun? parent, CancellationToken cancellationToken, string? experimentIdOverride = null)
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        if (parent is null && TakeEnvironmentRunId() is { } resumeId)
        {
            return await ResumeRunCoreAsync(resumeId, experimentIdOverride, tags, cancellationToken).ConfigureAwait(false);
        }

        var merged = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            [SystemTags.User] = _user,
            [SystemTags.SourceName] = SystemTags.SourceNameValue,
            [SystemTags.SourceType] = "LOCAL",
        };
        if (SystemTags.GitCommitValue is { } commit)
        {
            merged[SystemTags.GitCommit] = commit;
        }

        if (parent is not null)
        {
            merged[SystemTags.ParentRunId] = parent.RunId;
        }

        string? userRunName = null;
        if (tags is not null)
        {
            foreach (var (key, value) in tags)
            {
                FileStore.FileStorePaths.ValidateKey(key, "tag key", KeysAreFileNames);
                merged[key] = CheckValue(value, MlflowLimits.MaxTagValueLength, key, "tag");
                if (key == SystemTags.RunName)
                {
                    userRunName = merged[key];
                }
            }
        }

        if (runName is not null && userRunName is not null && runName != userRunName)
        {
            throw new ArgumentException($"The run name '{runName}' and the tag {SystemTags.RunName} '{userRunName}' differ; give one.", nameof(runName));
        }

        var name = runName ?? userRunName ?? RunNameGenerator.Next();
        merged[SystemTags.RunName] = name;
        var startTime = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        ActiveRun run;
        if (_offline is null)
        {
            var experimentId = experimentIdOverride ?? parent?.ExperimentId ?? await ResolveExperimentIdAsync(cancellationToken).ConfigureAwait(false);
            var created = await _store.CreateRunAsync(experimentId, name, startTime, merged.Select(kv => new Tag(kv.Key, kv.Value)).ToList(), _user, cancellationToken).ConfigureAwait(false);
            var runId = created.Info.RunId;
            run = new ActiveRun(this, _batcher, _batcher.Register(runId), runId, experimentId, created.Info.RunName ?? name);
        }
        else
        {
            run = await StartRunWithFallbackAsync(name, merged, parent, startTime, cancellationToken, experimentIdOverride).ConfigureAwait(false);
        }

        Track(run);
        return run;
    }

    private void Track(ActiveRun run)
    {
        lock (_runsLock)
        {
            _activeRuns.Add(run);
        }
    }

    internal void OnRunEnded(ActiveRun run)
    {
        lock (_runsLock)
        {
            _activeRuns.Remove(run);
        }
    }

    /// <summary>Checks a param or tag value; truncates (warning once per key) or throws per <see cref="MlflowTrackerOptions.OverlongValuePolicy"/>.</summary>
    internal string CheckValue(string? value, int limit, string key, string kind)
    {
        var result = MlflowValidation.CheckValue(value, limit, _options.OverlongValuePolicy == OverlongValuePolicy.Truncate, key, kind + " key", out var truncated);
        if (truncated && _truncationWarned.TryAdd(kind + "\0" + key, 0))
        {
            TrackingLog.ValueTruncated(Logger, kind, key, MlflowValidation.CodePointLength(value!, key, kind), limit);
        }

        return result;
    }

    private static void FailQuietly(ActiveRun run, Exception ex)
    {
        try
        {
            run.Fail(ex);
        }
        catch (MlflowRejectedEntriesException)
        {
            // Already logged by the sender; the caller's own exception matters more.
        }
    }
}
