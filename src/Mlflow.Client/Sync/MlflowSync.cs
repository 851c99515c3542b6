using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Mlflow.Client.FileStore;

namespace Mlflow.Client.Sync;

/// <summary>
/// Pushes runs of a local store (MLflow's <c>./mlruns</c> format) to a tracking server. Safe to repeat and to
/// interrupt: each server run carries tag <c>mlflow.dotnet.sourceRunId</c> and each local run keeps a small journal
/// of what the server acknowledged, so a second sync sends only what is new and never creates a second run.
/// </summary>
/// <remarks>
/// <para>Per run: the experiment (by name; created when missing; a <em>deleted</em> server experiment of that name is
/// not restored: the run fails with a message saying how to proceed), the run with its name, start time and user,
/// params, tags (<c>mlflow.parentRunId</c> re-pointed to the parent's server run; parents are synced first),
/// every metric point with its timestamp and step, dataset inputs, artifacts (when the server proxies artifacts,
/// <c>mlflow-artifacts:</c>), the MLflow 3 traces logged under the run with their span data and assessments (to an
/// MLflow 3 server; a 2.x server gets the run without them, reported in <see cref="SyncRunResult.TracesSkippedReason"/>),
/// and last the status and end time.</para>
/// <para>The logged models the run produced in the local store (MLflow 3.11.1's <c>models/m-…</c>): to an MLflow 3 server
/// each finalized one is pushed as a logged model, once (tag <c>mlflow.dotnet.sourceModelId</c> = the local id, found
/// again by it; its name, type, params and tags, the server run as its source and output at the local step, its metric
/// points sent with its id in the run's <c>log-batch</c> so they are not sent twice, its files with an <c>MLmodel</c>
/// naming the server model, then finalized READY, or FAILED when its local <c>LogModel</c> failed, without files); a
/// PENDING one is skipped with a message until it is finalized. A 2.x server gets a READY model's files with the run's
/// artifacts under <c>&lt;model name&gt;/</c> (<c>runs:/&lt;run&gt;/&lt;name&gt;</c> loads and registers it).</para>
/// <para>Not synced: deleted local runs and experiments, runs of the local store's registry, traces not logged under a
/// run, a logged model's metric points logged by another run than the one that produced it (they reach that run's
/// server run without the model link).
/// Two syncs of one run to one server at the same time are refused (a lock file beside the journal).</para>
/// </remarks>
public static class MlflowSync
{
    /// <summary>Syncs the selected local runs to the server.</summary>
    /// <param name="options">Source, target, selection, dry run.</param>
    /// <param name="progress">Receives a report per run step and during long metric and artifact uploads.</param>
    /// <param name="cancellationToken">Stops the sync; what was acknowledged stays recorded and the next sync resumes.</param>
    /// <returns>Per-run outcomes and totals; <see cref="SyncSummary.Complete"/> tells whether everything was sent.</returns>
    /// <exception cref="DirectoryNotFoundException">The local store does not exist.</exception>
    /// <exception cref="ArgumentException">No usable tracking URI (not in a dry run), or an unusable <see cref="SyncOptions.From"/>.</exception>
    /// <exception cref="OperationCanceledException">The sync was cancelled.</exception>
    public static async Task<SyncSummary> SyncAsync(SyncOptions options, IProgress<SyncProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        var root = LocalFileStore.ResolveRoot(options.From);
        if (!Directory.Exists(root))
        {
            throw new DirectoryNotFoundException($"The local store '{root}' does not exist.");
        }

        var loggerFactory = options.LoggerFactory ?? NullLoggerFactory.Instance;
        var logger = loggerFactory.CreateLogger(typeof(MlflowSync).FullName!);
        var clientOptions = (options.Client ?? new MlflowClientOptions()).WithEnvironmentDefaults(EnvironmentReader.Process);
        if (!string.IsNullOrWhiteSpace(options.To))
        {
            clientOptions.TrackingUri = options.To;
        }

        // The client's pipeline is the sync's only retry layer: its retries are logged where the sync logs.
        clientOptions.LoggerFactory ??= options.LoggerFactory;

        MlflowClient? client = null;
        HttpClient? http = null;
        string targetKey;
        if (options.DryRun)
        {
            targetKey = TryTargetKey(clientOptions.TrackingUri) ?? "";
        }
        else
        {
            if (options.WrapHandler is { } wrap)
            {
                clientOptions.Validate();
                http = new HttpClient(wrap(Rest.HttpClientConstruction.CreateOwnedHandler(clientOptions)), disposeHandler: true) { Timeout = clientOptions.RequestTimeout };
                client = new MlflowClient(http, clientOptions);
            }
            else
            {
                client = new MlflowClient(clientOptions);
            }

            targetKey = client.TrackingUri.ToString();
        }

        try
        {
            using var store = new LocalFileStore(root, loggerFactory.CreateLogger(typeof(LocalFileStore).FullName!));
            var errors = new List<string>();
            var runIds = await SelectRunsAsync(store, options, errors, cancellationToken).ConfigureAwait(false);
            var synchronizer = new RunSynchronizer(client, targetKey, options, logger) { Progress = progress };
            var results = new List<SyncRunResult>(runIds.Count);
            for (var i = 0; i < runIds.Count; i++)
            {
                cancellationToken.ThrowIfCancellationRequested();
                var result = await synchronizer.SyncRunAsync(store, runIds[i], cancellationToken, i + 1, runIds.Count).ConfigureAwait(false);
                results.Add(result);
                if (result.Error is { } error)
                {
                    errors.Add($"run {result.LocalRunId}: {error}");
                }

                if (synchronizer.ServerUnreachable)
                {
                    errors.Add($"The server {targetKey} did not answer; {runIds.Count - i - 1} remaining runs were not attempted.");
                    results.AddRange(runIds.Skip(i + 1).Select(id => new SyncRunResult { LocalRunId = id, Outcome = SyncRunOutcome.Failed, Error = "not attempted: the server did not answer" }));
                    break;
                }
            }

            return new SyncSummary { DryRun = options.DryRun, Runs = results, Errors = errors };
        }
        finally
        {
            client?.Dispose();
            http?.Dispose();
        }
    }

    private static string? TryTargetKey(string? uri)
    {
        try
        {
            return string.IsNullOrWhiteSpace(uri) ? null : MlflowClient.ResolveServerUri(uri).ToString();
        }
        catch (ArgumentException)
        {
            return null;
        }
    }

    /// <summary>The runs to sync, parents before their children, otherwise by start time.</summary>
    private static async Task<List<string>> SelectRunsAsync(LocalFileStore store, SyncOptions options, List<string> errors, CancellationToken ct)
    {
        var runs = new Dictionary<string, Run>(StringComparer.Ordinal);
        if (!string.IsNullOrEmpty(options.RunId))
        {
            Run run;
            try
            {
                run = store.GetRunWithoutMetrics(options.RunId); // the sync reads the metric files itself, from its journal's offsets
            }
            catch (Exception ex) when (ex is MlflowException { ErrorCode: MlflowErrorCode.ResourceDoesNotExist } or ArgumentException)
            {
                errors.Add($"No local run '{options.RunId}' in {store.RootDirectory}.");
                return [];
            }

            if (options.ExperimentName is { } name && (await store.GetExperimentAsync(run.Info.ExperimentId, ct).ConfigureAwait(false)).Name != name)
            {
                errors.Add($"Local run '{options.RunId}' is not in experiment '{name}'.");
                return [];
            }

            runs[run.Info.RunId] = run;
            // Its ancestors too, so the child's parent tag can name their server runs.
            for (var depth = 0; depth < 100 && ParentOf(run) is { } parentId && !runs.ContainsKey(parentId); depth++)
            {
                try
                {
                    run = store.GetRunWithoutMetrics(parentId);
                }
                catch (Exception ex) when (ex is MlflowException { ErrorCode: MlflowErrorCode.ResourceDoesNotExist } or ArgumentException)
                {
                    break;
                }

                runs[run.Info.RunId] = run;
            }
        }
        else
        {
            var experiments = new List<Experiment>();
            string? token = null;
            for (var page = 0; page < 10_000; page++)
            {
                var result = await store.SearchExperimentsAsync(new ExperimentSearchOptions { ViewType = ViewType.ActiveOnly, MaxResults = 1000 }, token, ct).ConfigureAwait(false);
                experiments.AddRange(result.Items);
                token = result.NextPageToken;
                if (token is null)
                {
                    break;
                }
            }

            if (options.ExperimentName is { } name)
            {
                experiments = experiments.Where(e => e.Name == name).ToList();
                if (experiments.Count == 0)
                {
                    errors.Add($"No active local experiment named '{name}' in {store.RootDirectory}.");
                    return [];
                }
            }

            foreach (var experiment in experiments)
            {
                foreach (var run in store.ListRuns(experiment.ExperimentId, ViewType.ActiveOnly, withMetrics: false, ct))
                {
                    runs[run.Info.RunId] = run;
                }
            }
        }

        var ordered = new List<string>(runs.Count);
        var visited = new HashSet<string>(StringComparer.Ordinal);
        foreach (var run in runs.Values.OrderBy(r => r.Info.StartTime ?? 0).ThenBy(r => r.Info.RunId, StringComparer.Ordinal))
        {
            Visit(run);
        }

        return ordered;

        void Visit(Run run)
        {
            // Iterative walk up the parent chain (bounded), then emit from the oldest ancestor down.
            var chain = new List<Run>();
            for (var current = run; current is not null && visited.Add(current.Info.RunId) && chain.Count < 1000;)
            {
                chain.Add(current);
                current = ParentOf(current) is { } p ? runs.GetValueOrDefault(p) : null;
            }

            for (var i = chain.Count - 1; i >= 0; i--)
            {
                ordered.Add(chain[i].Info.RunId);
            }
        }
    }

    private static string? ParentOf(Run run)
        => run.Data.Tags.FirstOrDefault(t => t.Key == RunSynchronizer.ParentRunIdTag)?.Value is { Length: > 0 } p ? p : null;
}
