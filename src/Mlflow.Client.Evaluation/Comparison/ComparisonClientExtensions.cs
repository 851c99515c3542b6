using Mlflow.Client.Store;

namespace Mlflow.Client.Comparison;

/// <summary>Run comparison on a tracking server through <see cref="MlflowClient"/> (the tracker has the same for its own store).</summary>
public static class ComparisonClientExtensions
{
    /// <summary>Searches the runs of experiments by name and returns them side by side (see <see cref="ComparisonTrackerExtensions.SearchRunsAsync(MlflowTracker, RunQuery, CancellationToken)"/>).</summary>
    /// <param name="client">The client.</param>
    /// <param name="query">Experiments, filter, order, tags to show.</param>
    /// <param name="cancellationToken">Cancels the search.</param>
    /// <returns>One row per run.</returns>
    public static Task<RunTable> SearchRunTableAsync(this MlflowClient client, RunQuery query, CancellationToken cancellationToken = default)
        => RunSearch.TableAsync(Store(client), query, null, cancellationToken);

    /// <summary>The values of one metric over the runs of an experiment (see <see cref="ComparisonTrackerExtensions.GetMetricTrendAsync(MlflowTracker, string, string, string?, CancellationToken)"/>).</summary>
    /// <param name="client">The client.</param>
    /// <param name="experimentName">The experiment.</param>
    /// <param name="metric">The metric key.</param>
    /// <param name="filter">An MLflow filter to narrow the runs.</param>
    /// <param name="cancellationToken">Cancels the search.</param>
    /// <returns>The series.</returns>
    public static Task<MetricTrend> GetMetricTrendAsync(this MlflowClient client, string experimentName, string metric, string? filter = null, CancellationToken cancellationToken = default)
        => RunSearch.TrendAsync(Store(client), experimentName, metric, filter, cancellationToken);

    /// <summary>
    /// Compares a candidate run with the run behind a registered model's alias (<see cref="MlflowClient.GetModelVersionByAliasAsync"/>),
    /// and, when <paramref name="candidateVersion"/> is given and the candidate wins (<see cref="GateResult.CandidateWins"/>),
    /// points the alias at that version. When the alias does not exist yet, the candidate passes with every metric present
    /// and wins.
    /// </summary>
    /// <param name="client">The client.</param>
    /// <param name="gate">The criteria.</param>
    /// <param name="candidateRunId">The candidate run.</param>
    /// <param name="modelName">The registered model.</param>
    /// <param name="alias">The alias of the baseline, for example <c>champion</c>.</param>
    /// <param name="candidateVersion">The candidate's registered version, to move the alias to when it wins; <see langword="null"/> never moves it.</param>
    /// <param name="cancellationToken">Cancels the calls.</param>
    /// <returns>The verdict (<see cref="GateResult.AliasMoved"/> says whether the alias moved).</returns>
    public static Task<GateResult> CompareWithAliasAsync(this MlflowClient client, EvaluationGate gate, string candidateRunId, string modelName, string alias, string? candidateVersion = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(client);
        return AliasGate.CompareAsync(gate, new RestModelRegistryStore(client), (id, ct) => client.GetRunAsync(id, ct), candidateRunId, modelName, alias, candidateVersion, cancellationToken);
    }

    private static RestTrackingStore Store(MlflowClient client)
    {
        ArgumentNullException.ThrowIfNull(client);
        return new RestTrackingStore(client, ownsClient: false);
    }
}
