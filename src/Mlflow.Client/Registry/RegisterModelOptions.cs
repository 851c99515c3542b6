namespace Mlflow.Client;

/// <summary>How <see cref="MlflowModelRegistry.RegisterModel(string, string, RegisterModelOptions?)"/> creates the version.</summary>
public sealed record RegisterModelOptions
{
    /// <summary>Tags of the new version.</summary>
    public IEnumerable<KeyValuePair<string, string>>? Tags { get; init; }

    /// <summary>The new version's description.</summary>
    public string? Description { get; init; }

    /// <summary>
    /// How long to wait for the version to become READY (MLflow's <c>await_registration_for</c>, 5 minutes by default);
    /// <see cref="TimeSpan.Zero"/> returns the version as created, without waiting.
    /// </summary>
    public TimeSpan AwaitReadyTimeout { get; init; } = TimeSpan.FromMinutes(5);

    /// <summary>The pause between two status reads while waiting (3 seconds, as MLflow).</summary>
    public TimeSpan PollInterval { get; init; } = TimeSpan.FromSeconds(3);
}
