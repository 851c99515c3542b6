using Mlflow.Client.FileStore;
using Mlflow.Client.Rest;
using Refit;

namespace Mlflow.Client.Store;

/// <summary>
/// What an <see cref="MlflowClient"/> with no server reads: the local store (runs, metric histories, experiments,
/// artifacts, registered models), as Python's <c>MlflowClient</c> does on a <c>file:</c> URI. Every other call of the
/// client would be a REST request; its REST clients are bound to a handler that refuses each one with a message naming
/// the endpoint and what to use instead.
/// </summary>
internal sealed class LocalStoreReader : IDisposable
{
    private readonly Lazy<LocalModelRegistry> _registry;

    public LocalStoreReader(LocalFileStore store)
    {
        Store = store;
        _registry = new Lazy<LocalModelRegistry>(() => new LocalModelRegistry(store));
    }

    public LocalFileStore Store { get; }

    /// <summary>The store's model registry (<c>models/</c> under the root), opened on first use.</summary>
    public LocalModelRegistry Registry => _registry.Value;

    /// <summary>Opens a run artifact from the run's artifact folder.</summary>
    public async Task<Stream> OpenRunArtifactAsync(string runId, string path, CancellationToken cancellationToken)
    {
        var artifacts = await Store.GetRunArtifactsAsync(runId, null, null, cancellationToken).ConfigureAwait(false);
        return await artifacts.OpenReadAsync(path, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The latest version per stage of a registered model, only <paramref name="stages"/> when given.</summary>
    public async Task<IReadOnlyList<ModelVersion>> GetLatestVersionsAsync(string name, IEnumerable<string>? stages, CancellationToken cancellationToken)
    {
        var latest = await Registry.GetLatestVersionsAsync(name, cancellationToken).ConfigureAwait(false);
        var wanted = stages?.ToHashSet(StringComparer.OrdinalIgnoreCase);
        return wanted is null || wanted.Count == 0 ? latest : latest.Where(v => v.CurrentStage is { } stage && wanted.Contains(stage)).ToList();
    }

    public void Dispose() => Store.Dispose();

    /// <summary>REST clients whose every request is refused: see <see cref="NotOnLocalStoreException"/>.</summary>
    public static (HttpClient Http, ITrackingApi Tracking, IRegistryApi Registry, IArtifactsApi Artifacts, IWebhooksApi Webhooks) RefusingRestClients(string root)
    {
        var http = new HttpClient(new RefusingHandler(root)) { BaseAddress = new Uri("http://local-store.invalid/") };
        var settings = new RefitSettings(new SystemTextJsonContentSerializer(MlflowJsonContext.WireOptions));
        return (http, RestService.ForGenerated<ITrackingApi>(http, settings), RestService.ForGenerated<IRegistryApi>(http, settings),
            RestService.ForGenerated<IArtifactsApi>(http, settings), RestService.ForGenerated<IWebhooksApi>(http, settings));
    }

    /// <summary>A call an <see cref="MlflowClient"/> on the local store does not make (surfaced as <see cref="NotSupportedException"/>).</summary>
    internal sealed class NotOnLocalStoreException(string message) : NotSupportedException(message);

    private sealed class RefusingHandler(string root) : HttpMessageHandler
    {
        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            var endpoint = request.RequestUri?.AbsolutePath ?? "?";
            throw new NotOnLocalStoreException(
                $"{request.Method} {endpoint} needs a tracking server: this MlflowClient reads the local store {root} (runs, metric histories, "
                + "experiments, artifacts and registered models). Write to a local store with MlflowTracker (TrackingUri = the same folder), or give "
                + "the client an http(s):// tracking URI.");
        }
    }
}
