namespace Mlflow.Client.Comparison;

/// <summary>Which runs to compare: experiments by name, MLflow's filter and order syntax, and the tags to show.</summary>
public sealed record RunQuery
{
    /// <summary>
    /// The experiments to search in, by name. None (the default): the tracker's active experiment, as Python's
    /// <c>search_runs</c> defaults to it (<see cref="ComparisonTrackerExtensions.SearchRuns(MlflowTracker, RunQuery)"/>); an <see cref="MlflowClient"/> has no
    /// active experiment and needs at least one name.
    /// </summary>
    public IReadOnlyList<string> ExperimentNames { get; init; } = [];

    /// <summary>MLflow's search filter, for example <c>metrics.f1_score &gt; 0.8 and params.model = 'bert'</c>.</summary>
    public string? Filter { get; init; }

    /// <summary>MLflow's order clauses, for example <c>metrics.f1_score DESC</c>, <c>attributes.start_time ASC</c> (default: newest first).</summary>
    public IReadOnlyList<string>? OrderBy { get; init; }

    /// <summary>Active (default), deleted or all runs.</summary>
    public ViewType? ViewType { get; init; }

    /// <summary>At most this many runs (1 to 50,000; default 1000).</summary>
    public int MaxRuns { get; init; } = 1000;

    /// <summary>The tag keys to show as columns (for example <c>mlflow.source.git.commit</c>).</summary>
    public IReadOnlyList<string>? TagKeys { get; init; }
}
