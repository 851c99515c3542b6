// Comparing runs from the tracker: run tables, metric trends and the evaluation gate, on a server and on the local store alike.
using Mlflow.Client.Comparison;

namespace Mlflow.Client;

public sealed partial class MlflowTracker
{
    /// <summary>
    /// Searches the runs of one or more experiments with MLflow's filter and order syntax, on the tracker's server or local
    /// store, and returns them side by side. A query that names no experiment searches the tracker's active one (the one
    /// its runs start in: <see cref="SetExperiment"/>, else <see cref="MlflowTrackerOptions.ExperimentName"/> or
    /// <see cref="MlflowTrackerOptions.ExperimentId"/>, else <c>MLFLOW_EXPERIMENT_NAME</c> / <c>MLFLOW_EXPERIMENT_ID</c>,
    /// else Default), as Python's <c>search_runs</c> does; a search never creates it.
    /// </summary>
    /// <param name="query">Experiments, filter, order, tags to show.</param>
    /// <returns>One row per run.</returns>
    /// <exception cref="MlflowException">An experiment does not exist, the filter is invalid, or the server failed.</exception>
    public RunTable SearchRuns(RunQuery query) => SearchRunsAsync(query).GetAwaiter().GetResult();

    /// <inheritdoc cref="SearchRuns"/>
    /// <param name="query">Experiments, filter, order, tags to show.</param>
    /// <param name="cancellationToken">Cancels the search.</param>
    public Task<RunTable> SearchRunsAsync(RunQuery query, CancellationToken cancellationToken = default)
        => RunSearch.TableAsync(_store, query, ActiveExperimentIdForSearchAsync, cancellationToken);

    /// <summary>The experiment a search without names reads: the one runs start in, looked up but never created.</summary>
    private async Task<string> ActiveExperimentIdForSearchAsync(CancellationToken cancellationToken)
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

    /// <summary>The values of one metric over the runs of an experiment, by run start time (runs without it are left out).</summary>
    /// <param name="experimentName">The experiment.</param>
    /// <param name="metric">The metric key.</param>
    /// <param name="filter">An MLflow filter to narrow the runs (for example <c>tags.schedule = 'nightly'</c>).</param>
    /// <returns>The series.</returns>
    public MetricTrend GetMetricTrend(string experimentName, string metric, string? filter = null)
        => GetMetricTrendAsync(experimentName, metric, filter).GetAwaiter().GetResult();

    /// <inheritdoc cref="GetMetricTrend"/>
    /// <param name="experimentName">The experiment.</param>
    /// <param name="metric">The metric key.</param>
    /// <param name="filter">An MLflow filter to narrow the runs.</param>
    /// <param name="cancellationToken">Cancels the search.</param>
    public Task<MetricTrend> GetMetricTrendAsync(string experimentName, string metric, string? filter = null, CancellationToken cancellationToken = default)
        => RunSearch.TrendAsync(_store, experimentName, metric, filter, cancellationToken);

    /// <summary>Compares a candidate run's latest metrics with a baseline run's (both in the tracker's store).</summary>
    /// <param name="gate">The criteria.</param>
    /// <param name="candidateRunId">The candidate run.</param>
    /// <param name="baselineRunId">The baseline run.</param>
    /// <returns>The verdict.</returns>
    public GateResult CompareRuns(EvaluationGate gate, string candidateRunId, string baselineRunId)
        => CompareRunsAsync(gate, candidateRunId, baselineRunId).GetAwaiter().GetResult();

    /// <inheritdoc cref="CompareRuns"/>
    /// <param name="gate">The criteria.</param>
    /// <param name="candidateRunId">The candidate run.</param>
    /// <param name="baselineRunId">The baseline run.</param>
    /// <param name="cancellationToken">Cancels the reads.</param>
    public async Task<GateResult> CompareRunsAsync(EvaluationGate gate, string candidateRunId, string baselineRunId, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(gate);
        var candidate = await _store.GetRunAsync(candidateRunId, cancellationToken).ConfigureAwait(false);
        var baseline = await _store.GetRunAsync(baselineRunId, cancellationToken).ConfigureAwait(false);
        return gate.Compare(candidate, baseline);
    }

    /// <summary>
    /// Compares a candidate run with the run behind a registered model's alias and moves the alias to
    /// <paramref name="candidateVersion"/> when the candidate wins (see <see cref="ComparisonClientExtensions.CompareWithAliasAsync"/>).
    /// </summary>
    /// <param name="gate">The criteria.</param>
    /// <param name="candidateRunId">The candidate run.</param>
    /// <param name="modelName">The registered model.</param>
    /// <param name="alias">The alias of the baseline, for example <c>champion</c>.</param>
    /// <param name="candidateVersion">The candidate's registered version; <see langword="null"/> never moves the alias.</param>
    /// <param name="cancellationToken">Cancels the calls.</param>
    /// <returns>The verdict.</returns>
    public Task<GateResult> CompareWithAliasAsync(EvaluationGate gate, string candidateRunId, string modelName, string alias, string? candidateVersion = null, CancellationToken cancellationToken = default)
    {
        return AliasGate.CompareAsync(gate, Registry.Store, _store.GetRunAsync, candidateRunId, modelName, alias, candidateVersion, cancellationToken);
    }

    /// <inheritdoc cref="CompareWithAliasAsync"/>
    public GateResult CompareWithAlias(EvaluationGate gate, string candidateRunId, string modelName, string alias, string? candidateVersion = null)
        => CompareWithAliasAsync(gate, candidateRunId, modelName, alias, candidateVersion).GetAwaiter().GetResult();
}
