// Comparing runs from the tracker: run tables, metric trends and the evaluation gate, on a server and on the local store alike.
using Mlflow.Client.Comparison;

// In the tracker's own namespace, so tracker.SearchRuns(...) and the others read as they did when they were members of
// MlflowTracker: a program that references this package needs no other using.
namespace Mlflow.Client;

/// <summary>Run comparison on the tracker's server or local store (<see cref="ComparisonClientExtensions"/> has the same for <see cref="MlflowClient"/>).</summary>
public static class ComparisonTrackerExtensions
{
    /// <summary>
    /// Searches the runs of one or more experiments with MLflow's filter and order syntax, on the tracker's server or local
    /// store, and returns them side by side. A query that names no experiment searches the tracker's active one (the one
    /// its runs start in: <see cref="MlflowTracker.SetExperiment"/>, else <see cref="MlflowTrackerOptions.ExperimentName"/> or
    /// <see cref="MlflowTrackerOptions.ExperimentId"/>, else <c>MLFLOW_EXPERIMENT_NAME</c> / <c>MLFLOW_EXPERIMENT_ID</c>,
    /// else Default), as Python's <c>search_runs</c> does; a search never creates it.
    /// </summary>
    /// <param name="tracker">The tracker.</param>
    /// <param name="query">Experiments, filter, order, tags to show.</param>
    /// <returns>One row per run.</returns>
    /// <exception cref="MlflowException">An experiment does not exist, the filter is invalid, or the server failed.</exception>
    public static RunTable SearchRuns(this MlflowTracker tracker, RunQuery query) => SearchRunsAsync(tracker, query).GetAwaiter().GetResult();

    /// <inheritdoc cref="SearchRuns(MlflowTracker, RunQuery)"/>
    /// <param name="tracker">The tracker.</param>
    /// <param name="query">Experiments, filter, order, tags to show.</param>
    /// <param name="cancellationToken">Cancels the search.</param>
    public static Task<RunTable> SearchRunsAsync(this MlflowTracker tracker, RunQuery query, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(tracker);
        return RunSearch.TableAsync(tracker.SearchStore, query, tracker.ActiveExperimentIdForSearchAsync, cancellationToken);
    }

    /// <summary>The values of one metric over the runs of an experiment, by run start time (runs without it are left out).</summary>
    /// <param name="tracker">The tracker.</param>
    /// <param name="experimentName">The experiment.</param>
    /// <param name="metric">The metric key.</param>
    /// <param name="filter">An MLflow filter to narrow the runs (for example <c>tags.schedule = 'nightly'</c>).</param>
    /// <returns>The series.</returns>
    public static MetricTrend GetMetricTrend(this MlflowTracker tracker, string experimentName, string metric, string? filter = null)
        => GetMetricTrendAsync(tracker, experimentName, metric, filter).GetAwaiter().GetResult();

    /// <inheritdoc cref="GetMetricTrend(MlflowTracker, string, string, string?)"/>
    /// <param name="tracker">The tracker.</param>
    /// <param name="experimentName">The experiment.</param>
    /// <param name="metric">The metric key.</param>
    /// <param name="filter">An MLflow filter to narrow the runs.</param>
    /// <param name="cancellationToken">Cancels the search.</param>
    public static Task<MetricTrend> GetMetricTrendAsync(this MlflowTracker tracker, string experimentName, string metric, string? filter = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(tracker);
        return RunSearch.TrendAsync(tracker.SearchStore, experimentName, metric, filter, cancellationToken);
    }

    /// <summary>Compares a candidate run's latest metrics with a baseline run's (both in the tracker's store).</summary>
    /// <param name="tracker">The tracker.</param>
    /// <param name="gate">The criteria.</param>
    /// <param name="candidateRunId">The candidate run.</param>
    /// <param name="baselineRunId">The baseline run.</param>
    /// <returns>The verdict.</returns>
    public static GateResult CompareRuns(this MlflowTracker tracker, EvaluationGate gate, string candidateRunId, string baselineRunId)
        => CompareRunsAsync(tracker, gate, candidateRunId, baselineRunId).GetAwaiter().GetResult();

    /// <inheritdoc cref="CompareRuns(MlflowTracker, EvaluationGate, string, string)"/>
    /// <param name="tracker">The tracker.</param>
    /// <param name="gate">The criteria.</param>
    /// <param name="candidateRunId">The candidate run.</param>
    /// <param name="baselineRunId">The baseline run.</param>
    /// <param name="cancellationToken">Cancels the reads.</param>
    public static async Task<GateResult> CompareRunsAsync(this MlflowTracker tracker, EvaluationGate gate, string candidateRunId, string baselineRunId, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(tracker);
        ArgumentNullException.ThrowIfNull(gate);
        var candidate = await tracker.SearchStore.GetRunAsync(candidateRunId, cancellationToken).ConfigureAwait(false);
        var baseline = await tracker.SearchStore.GetRunAsync(baselineRunId, cancellationToken).ConfigureAwait(false);
        return gate.Compare(candidate, baseline);
    }

    /// <summary>
    /// Compares a candidate run with the run behind a registered model's alias and moves the alias to
    /// <paramref name="candidateVersion"/> when the candidate wins (see <see cref="ComparisonClientExtensions.CompareWithAliasAsync"/>).
    /// </summary>
    /// <param name="tracker">The tracker.</param>
    /// <param name="gate">The criteria.</param>
    /// <param name="candidateRunId">The candidate run.</param>
    /// <param name="modelName">The registered model.</param>
    /// <param name="alias">The alias of the baseline, for example <c>champion</c>.</param>
    /// <param name="candidateVersion">The candidate's registered version; <see langword="null"/> never moves the alias.</param>
    /// <param name="cancellationToken">Cancels the calls.</param>
    /// <returns>The verdict.</returns>
    public static Task<GateResult> CompareWithAliasAsync(this MlflowTracker tracker, EvaluationGate gate, string candidateRunId, string modelName, string alias, string? candidateVersion = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(tracker);
        return AliasGate.CompareAsync(gate, tracker.Registry.Store, tracker.SearchStore.GetRunAsync, candidateRunId, modelName, alias, candidateVersion, cancellationToken);
    }

    /// <inheritdoc cref="CompareWithAliasAsync(MlflowTracker, EvaluationGate, string, string, string, string?, CancellationToken)"/>
    public static GateResult CompareWithAlias(this MlflowTracker tracker, EvaluationGate gate, string candidateRunId, string modelName, string alias, string? candidateVersion = null)
        => CompareWithAliasAsync(tracker, gate, candidateRunId, modelName, alias, candidateVersion).GetAwaiter().GetResult();
}
