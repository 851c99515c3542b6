namespace Mlflow.Client;

public sealed partial class ActiveRun
{
    private const int MaxInputTagValueLength = 500; // MLflow's MAX_INPUT_TAG_VALUE_SIZE

    /// <summary>
    /// Records that this run used a dataset (MLflow's <c>mlflow.log_input</c>): its name, digest, source type, source,
    /// schema and profile, with the input tag <c>mlflow.data.context</c> when <paramref name="context"/> is given.
    /// MLflow's UI lists it under the run's datasets. Sent at once (not queued); while the run is offline it is kept in
    /// the run's local copy and sent with it.
    /// </summary>
    /// <param name="dataset">The dataset (<see cref="MlflowDataset.FromFile"/>, <see cref="MlflowDataset.FromRows{T}"/>, ...).</param>
    /// <param name="context">What the data was used for: <c>training</c>, <c>evaluation</c>, ...; <see langword="null"/> for no context tag.</param>
    /// <exception cref="ArgumentException">The context is longer than MLflow accepts (500 characters).</exception>
    /// <exception cref="InvalidOperationException">The run has ended.</exception>
    /// <exception cref="MlflowException">The store refused the input.</exception>
    public void LogInput(MlflowDataset dataset, string? context = null)
        => LogInputAsync(dataset, context, CancellationToken.None).GetAwaiter().GetResult();

    /// <inheritdoc cref="LogInput(MlflowDataset, string?)"/>
    /// <param name="dataset">The dataset.</param>
    /// <param name="context">What the data was used for, or <see langword="null"/>.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>A task that completes when the input is recorded.</returns>
    public Task LogInputAsync(MlflowDataset dataset, string? context = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(dataset);
        if (context is not null && (context.Length == 0 || context.Length > MaxInputTagValueLength))
        {
            throw new ArgumentException($"The dataset context must have 1 to {MaxInputTagValueLength} characters (it has {context.Length}).", nameof(context));
        }

        ThrowIfEnded();
        return _tracker.LogInputsAsync(this, [dataset.ToInput(context)], cancellationToken);
    }

    private void ThrowIfEnded()
    {
        if (IsEnded)
        {
            throw new InvalidOperationException($"Run {RunId} has ended; start or reopen a run to log to it.");
        }
    }
}
