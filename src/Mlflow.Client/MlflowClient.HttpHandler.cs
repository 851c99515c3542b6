using Mlflow.Client.Rest;

namespace Mlflow.Client;

public partial class MlflowClient
{
    /// <summary>
    /// Creates the handler a client that owns its <see cref="HttpClient"/> sends with: pooled connections recycled every
    /// five minutes (so DNS changes are seen by a long-lived client), gzip, and the TLS settings of the options
    /// (<see cref="MlflowClientOptions.InsecureTls"/>, <see cref="MlflowClientOptions.ServerCertPath"/>,
    /// <see cref="MlflowClientOptions.ClientCertPath"/>). Make it the primary handler of a named client of an
    /// <see cref="IHttpClientFactory"/> so those settings apply there too (<c>AddMlflowClient</c> and
    /// <c>AddMlflowTracking</c> of Mlflow.Client.Extensions.Hosting do). It holds no retry: that stays in the client.
    /// </summary>
    /// <param name="options">The settings; unset values come from the <c>MLFLOW_*</c> environment, as for the client.</param>
    /// <returns>A new handler; the <see cref="HttpClient"/> or factory that uses it disposes it.</returns>
    /// <exception cref="ArgumentException">A setting is invalid (the message names it).</exception>
    public static HttpMessageHandler CreateHttpMessageHandler(MlflowClientOptions? options = null)
    {
        var resolved = (options ?? new MlflowClientOptions()).WithEnvironmentDefaults(EnvironmentReader.Process);
        resolved.Validate();
        return HttpClientConstruction.CreateOwnedHandler(resolved);
    }
}
