namespace Mlflow.Client;

/// <summary>One page of a search result.</summary>
/// <typeparam name="T">The item type.</typeparam>
/// <param name="Items">The items of this page (empty when none).</param>
/// <param name="NextPageToken">The token of the next page; <see langword="null"/> on the last page.</param>
public sealed record Page<T>(IReadOnlyList<T> Items, string? NextPageToken);

/// <summary>What a run search looks for (MLflow's <c>runs/search</c>).</summary>
public sealed record RunSearchOptions
{
    /// <summary>Experiments to search in (at least one).</summary>
    public IReadOnlyList<string> ExperimentIds { get; init; } = ["0"];
    /// <summary>Filter expression, for example <c>metrics.loss &lt; 0.5 and params.lr = '0.1'</c>.</summary>
    public string? Filter { get; init; }
    /// <summary>Active, deleted or all runs (server default: active only).</summary>
    public ViewType? ViewType { get; init; }
    /// <summary>Page size (the server allows 1 to 50,000; default 1000).</summary>
    public int MaxResults { get; init; } = 1000;
    /// <summary>Order, for example <c>metrics.loss ASC</c>.</summary>
    public IReadOnlyList<string>? OrderBy { get; init; }
}

/// <summary>What an experiment search looks for (MLflow's <c>experiments/search</c>).</summary>
public sealed record ExperimentSearchOptions
{
    /// <summary>Filter expression, for example <c>name LIKE 'bert%'</c>.</summary>
    public string? Filter { get; init; }
    /// <summary>Active, deleted or all experiments.</summary>
    public ViewType? ViewType { get; init; }
    /// <summary>Page size (always sent: the server refuses a search without it; 1 to 50,000; default 1000).</summary>
    public int MaxResults { get; init; } = 1000;
    /// <summary>Order, for example <c>name ASC</c>.</summary>
    public IReadOnlyList<string>? OrderBy { get; init; }
}
