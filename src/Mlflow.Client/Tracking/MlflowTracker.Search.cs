// What a search over the tracker's own store reads: the store and the experiment a search without names reads. The run
// comparison of the Mlflow.Client.Evaluation package (tracker.SearchRuns, GetMetricTrend, CompareRuns, CompareWithAlias)
// is built on these two members.
using Mlflow.Client.Store;

namespace Mlflow.Client;

public sealed partial class MlflowTracker
{
    /// <summary>The store the tracker's runs go to (a server or a local store), for searches and reads over it.</summary>
    internal ITrackingStore SearchStore => _store;

    /// <summary>
    /// The experiment a search that names none reads: the one runs start in (<see cref="SetExperiment"/>, else
    /// <see cref="MlflowTrackerOptions.ExperimentName"/> or <see cref="MlflowTrackerOptions.ExperimentId"/>, else
    /// <c>MLFLOW_EXPERIMENT_NAME</c> / <c>MLFLOW_EXPERIMENT_ID</c>, else Default), looked up but never created.
    /// </summary>
    /// <param name="cancellationToken">Cancels the lookup.</param>
    /// <returns>The experiment id.</returns>
    /// <exception cref="MlflowException">The experiment named by the tracker does not exist yet (it is created when the first run starts).</exception>
    internal async Task<string> ActiveExperimentIdForSearchAsync(CancellationToken cancellationToken)
    {
        if (Volatile.Read(ref _experimentId) is { } known)
        {
            return known;
        }

        var name = Volatile.Read(ref _offlineExperimentName) ?? _options.ExperimentName ?? _env.Get(MlflowEnvironmentVariables.ExperimentName);
        if (name is null)
        {
            return _options.ExperimentId ?? _env.Get(MlflowEnvironmentVariables.ExperimentId) ?? "0";
        }

        var experiment = await _store.GetExperimentByNameAsync(name, cancellationToken).ConfigureAwait(false)
            ?? throw MlflowException.ResourceDoesNotExist($"No experiment named '{name}' in {_store.Description} (the tracker's experiment, created when its first run starts).");
        return experiment.ExperimentId;
    }
}
