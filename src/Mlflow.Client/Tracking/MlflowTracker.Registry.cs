// The model registry of the tracker's store: the server's, or the file-based registry of a local store.
using Mlflow.Client.Store;

namespace Mlflow.Client;

public sealed partial class MlflowTracker
{
    private MlflowModelRegistry? _registry;

    /// <summary>
    /// The model registry where this tracker logs: the tracking server's registry, or, for a local store, MLflow's
    /// file-based registry in the same folder (<c>models/</c>, read by MLflow's <c>MlflowClient(registry_uri="file:...")</c>).
    /// </summary>
    public MlflowModelRegistry Registry => LazyInitializer.EnsureInitialized(ref _registry, () => _store switch
    {
        RestTrackingStore rest => new MlflowModelRegistry(rest, new RestModelRegistryStore(rest.Client), rest.Client),
        FileStore.LocalFileStore local => new MlflowModelRegistry(local, new FileStore.LocalModelRegistry(local), null),
        InMemory.InMemoryTrackingStore memory => new MlflowModelRegistry(memory, memory.Registry, null),
        _ => throw new NotSupportedException($"The store {_store.Description} has no model registry."),
    });
}
