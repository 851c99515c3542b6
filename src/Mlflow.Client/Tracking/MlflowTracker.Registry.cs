// The model registry of the tracker's store: the server's, or the file-based registry of a local store (the store creates it).
namespace Mlflow.Client;

public sealed partial class MlflowTracker
{
    private MlflowModelRegistry? _registry;

    /// <summary>
    /// The model registry where this tracker logs: the tracking server's registry, or, for a local store, MLflow's
    /// file-based registry in the same folder (<c>models/</c>, read by MLflow's <c>MlflowClient(registry_uri="file:...")</c>).
    /// </summary>
    public MlflowModelRegistry Registry => LazyInitializer.EnsureInitialized(ref _registry, _store.CreateRegistry);
}
