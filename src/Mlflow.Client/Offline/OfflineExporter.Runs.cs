// Starting a run with the fallback on: on the server (a creation whose answer was lost is found again by its client
// key), else offline, as a local run under that key that a drain or mlflow-sync creates on the server later.
using Mlflow.Client.Batching;
using Mlflow.Client.Resilience;

namespace Mlflow.Client.Offline;

/// <summary>What the tracker knows and does for a run start that the offline layer decides.</summary>
internal interface IRunHost
{
    /// <summary>The experiment new runs go to (resolved, created when missing, on the server).</summary>
    Task<string> ResolveExperimentIdAsync(CancellationToken cancellationToken);

    /// <summary>The name of a server experiment, when it can be read.</summary>
    Task<string?> ExperimentNameAsync(string experimentId, CancellationToken cancellationToken);

    /// <summary>The experiment a run started offline belongs to when no server experiment id is known: the tracker's name, else its id.</summary>
    (string? Name, string? Id) OfflineExperiment { get; }

    /// <summary>Registers a run with the sender; returns its queue.</summary>
    RunBuffer Register(string runId);
}

/// <summary>A run to start.</summary>
/// <param name="Name">The run name.</param>
/// <param name="ClientKey">The client key: tag <c>mlflow.dotnet.clientRunKey</c> of the server run, id of a local run.</param>
/// <param name="Tags">Every tag of the new run (the client key included).</param>
/// <param name="StartTime">Milliseconds since the epoch.</param>
/// <param name="User">The run's user.</param>
/// <param name="ExperimentId">The experiment when given (by the caller, or the parent's); else the host resolves it.</param>
/// <param name="ParentStartedOffline">The parent run exists only locally: the child starts offline beside it.</param>
internal sealed record RunStart(string Name, string ClientKey, IReadOnlyList<Tag> Tags, long StartTime, string User, string? ExperimentId, bool ParentStartedOffline);

/// <summary>A started run: its queue, id (server id, or the client key when it started offline), experiment and name.</summary>
internal readonly record struct StartedRun(RunBuffer Buffer, string RunId, string ExperimentId, string RunName);

internal sealed partial class OfflineExporter
{
    /// <summary>
    /// Creates the run on the server within <see cref="MlflowOfflineOptions.OfflineAfter"/> (a server that refuses
    /// connections is not there: one attempt); a creation with an unknown outcome is looked up once by its client key
    /// before it is sent again. When the server cannot be reached (and <see cref="MlflowOfflineOptions.ThrowOnConnectivityFailure"/>
    /// is off), the run starts offline: a local run under the client key, followed by this layer like any other.
    /// </summary>
    public async Task<StartedRun> StartRunAsync(RunStart start, IRunHost host, CancellationToken cancellationToken)
    {
        var options = _local.Options;
        var experimentId = start.ExperimentId;
        string reason;
        if (start.ParentStartedOffline)
        {
            reason = "its parent run started offline";
        }
        else
        {
            using var budget = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            budget.CancelAfter(options.OfflineAfter);
            var ct = budget.Token;
            using var failFast = RequestScope.Enter(options.ThrowOnConnectivityFailure ? RequestFlags.None : RequestFlags.NoRetryWhenRefused);
            try
            {
                experimentId ??= await host.ResolveExperimentIdAsync(ct).ConfigureAwait(false);
                var experimentName = await host.ExperimentNameAsync(experimentId, ct).ConfigureAwait(false);
                var created = await CreateOnServerAsync(start, experimentId, ct).ConfigureAwait(false);
                var runName = created.Info.RunName ?? start.Name;
                var buffer = host.Register(created.Info.RunId);
                Track(buffer, new RunIdentity(start.ClientKey, experimentId, experimentName, runName), null);
                return new StartedRun(buffer, created.Info.RunId, experimentId, runName);
            }
            catch (MlflowException ex) when (ex.IsTransient && !options.ThrowOnConnectivityFailure)
            {
                reason = ex.ShortReason;
            }
            catch (OperationCanceledException) when (budget.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
            {
                // A creation sent without an answer may exist on the server: it carries the client key, so the drain
                // (or mlflow-sync) finds it by that tag instead of creating a second run.
                reason = ServerExporter.NoAnswerWithin(options.OfflineAfter);
                if (options.ThrowOnConnectivityFailure)
                {
                    throw new MlflowException("The tracking server did not answer: " + reason + ".");
                }
            }
        }

        // Offline start: the local experiment is the parent's, the server experiment's (by id), or the tracker's.
        string? localExperimentId = null;
        string? serverExperimentId = null;
        string? offlineExperimentName = null;
        if (start.ParentStartedOffline)
        {
            localExperimentId = start.ExperimentId;
        }
        else if (experimentId is not null)
        {
            serverExperimentId = experimentId;
        }
        else
        {
            var (name, id) = host.OfflineExperiment;
            offlineExperimentName = name;
            serverExperimentId = name is null ? id ?? "0" : null;
        }

        var (mirror, localExperiment) = _local.CreateLocalRun(start.ClientKey, localExperimentId, offlineExperimentName, serverExperimentId, start.Name, start.StartTime, start.Tags, start.User);
        _local.WarnOnce(_server.Store.Description, start.ClientKey, reason);
        var local = host.Register(start.ClientKey);
        Track(local, null, mirror);
        return new StartedRun(local, start.ClientKey, localExperiment, start.Name);
    }

    /// <summary>One creation (the HTTP pipeline's retry budget); an unknown outcome is read back once by the client key, and created once more only when it is not there.</summary>
    private async Task<Run> CreateOnServerAsync(RunStart start, string experimentId, CancellationToken cancellationToken)
    {
        var store = _server.Store;
        try
        {
            return await store.CreateRunAsync(experimentId, start.Name, start.StartTime, start.Tags, start.User, cancellationToken).ConfigureAwait(false);
        }
        catch (MlflowException ex) when (ex.OutcomeUnknown)
        {
            // Unknown again: the run starts offline under the key, which the drain (or mlflow-sync) finds by its
            // client-key tag instead of creating a second run.
            Page<Run> page;
            using (RequestScope.Enter(RequestFlags.BypassCircuitBreaker))
            {
                page = await store.SearchRunsAsync(new RunSearchOptions
                {
                    ExperimentIds = [experimentId],
                    Filter = $"tags.`{OfflineMirror.ClientRunKeyTag}` = '{start.ClientKey}'",
                    ViewType = ViewType.All,
                    MaxResults = 10,
                }, null, cancellationToken).ConfigureAwait(false);
            }

            return page.Items.Count > 0
                ? page.Items[0]
                : await store.CreateRunAsync(experimentId, start.Name, start.StartTime, start.Tags, start.User, cancellationToken).ConfigureAwait(false);
        }
    }
}
