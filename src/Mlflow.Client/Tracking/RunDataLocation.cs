namespace Mlflow.Client;

/// <summary>Where the data of a run is now (<see cref="ActiveRun.DataLocation"/>).</summary>
public enum RunDataLocation
{
    /// <summary>On the tracking server: everything sent so far was acknowledged (<see cref="MlflowTracker.Destination"/>).</summary>
    Server,

    /// <summary>In the local store the tracker logs to (MLflow's on-disk format, <see cref="MlflowTracker.Destination"/>).</summary>
    LocalStore,

    /// <summary>
    /// Partly or wholly in the offline folder (<see cref="MlflowTracker.OfflineDirectory"/>), waiting for the server: the
    /// tracker sends it when the server answers again, or <c>mlflow-sync</c> does later.
    /// </summary>
    OfflineAwaitingSync,
}
