using Refit;

namespace Mlflow.Client.Rest;

/// <summary>Refit description of the artifact proxy endpoints (<c>mlflow-artifacts</c>), the server's download route and probes.</summary>
internal interface IArtifactsApi
{
    [Get("/health")]
    Task<string> HealthAsync(CancellationToken cancellationToken);
}
