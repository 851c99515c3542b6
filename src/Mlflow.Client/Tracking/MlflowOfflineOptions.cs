namespace Mlflow.Client;

/// <summary>
/// What a tracker does when its tracking server cannot be reached (<see cref="MlflowTrackerOptions.Offline"/>). By
/// default the run goes on: what the server has not acknowledged is written to a local store in MLflow's own format
/// (<c>./mlruns</c>), sent when the server answers again, and otherwise completed later by
/// <see cref="Sync.MlflowSync.SyncAsync"/> (or the <c>mlflow-sync</c> tool) without a second server run or duplicate points.
/// </summary>
public sealed class MlflowOfflineOptions
{
    /// <summary>
    /// The folder of the local store that keeps what could not be sent. <see langword="null"/> means
    /// <c>MLFLOW_DOTNET_OFFLINE_DIR</c>, else <c>MLFLOW_TRACKING_DIR</c>, else <c>./mlruns</c> of the working directory.
    /// </summary>
    public string? Directory { get; set; }

    /// <summary>
    /// When <see langword="true"/>, starting a run with the server unreachable throws an <see cref="MlflowException"/>
    /// instead of starting it offline, and <see cref="ActiveRun.FlushAsync"/> of a run that went offline mid-run throws
    /// (what it logged is kept locally either way). Default <see langword="false"/>.
    /// </summary>
    public bool ThrowOnConnectivityFailure { get; set; }

    /// <summary>
    /// Longest time entries of an offline run stay in memory before they are written to the local store and flushed
    /// to disk (default 1 s): a killed process loses at most what was logged within this interval.
    /// </summary>
    public TimeSpan DurableWriteInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>How often an offline run checks whether the server answers again and, when it does, sends what was kept (default 5 s).</summary>
    public TimeSpan ReconnectInterval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// Longest time the tracker waits for the tracking server, retries included, before it goes offline (default 30 s):
    /// when a run starts, and for each batch of a running run. The HTTP retry budget alone
    /// (<see cref="MlflowClientOptions.Retry"/>, MLflow's 7 retries with exponential backoff) can take minutes, during
    /// which a bounded queue fills and a <see cref="QueueFullPolicy.Wait"/> log call would wait. What was sent without an
    /// answer is kept locally and checked against the server's history before it is sent again.
    /// </summary>
    public TimeSpan OfflineAfter { get; set; } = TimeSpan.FromSeconds(30);

    internal void Validate()
    {
        if (OfflineAfter <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(OfflineAfter), OfflineAfter, "OfflineAfter must be positive.");
        }

        if (DurableWriteInterval <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(DurableWriteInterval), DurableWriteInterval, "DurableWriteInterval must be positive.");
        }

        if (ReconnectInterval <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(ReconnectInterval), ReconnectInterval, "ReconnectInterval must be positive.");
        }
    }

    /// <summary>The local store folder: the option, the environment, or <c>./mlruns</c>.</summary>
    internal string ResolveDirectory(EnvironmentReader env)
    {
        var dir = Directory;
        if (string.IsNullOrWhiteSpace(dir))
        {
            dir = env.Get(MlflowEnvironmentVariables.OfflineDir);
        }

        return FileStore.LocalFileStore.ResolveRoot(string.IsNullOrWhiteSpace(dir) ? null : dir);
    }
}
