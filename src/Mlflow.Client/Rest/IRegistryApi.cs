using Refit;

namespace Mlflow.Client.Rest;

/// <summary>Refit description of the model registry endpoints.</summary>
internal interface IRegistryApi
{
    [Post("/api/2.0/mlflow/registered-models/delete-placeholder")]
    Task PlaceholderAsync(CancellationToken cancellationToken);
}
