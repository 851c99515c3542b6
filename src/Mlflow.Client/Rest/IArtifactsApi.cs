using Refit;

namespace Mlflow.Client.Rest;

/// <summary>
/// Refit description of the server probes. The artifact proxy calls go through <see cref="HttpClient"/> directly
/// (see <c>MlflowClient.Artifacts.cs</c>): they stream bodies and may target the host named in an artifact URI.
/// </summary>
internal interface IArtifactsApi
{
    [Get("/health")]
    Task<string> GetHealthAsync(CancellationToken cancellationToken);

    [Get("/version")]
    Task<string> GetVersionAsync(CancellationToken cancellationToken);

    [Get("/api/3.0/mlflow/server-info")]
    Task<ServerInfoResponse> GetServerInfoAsync(CancellationToken cancellationToken);
}
