using System.Net;
using System.Net.Http.Headers;
using System.Net.Security;
using System.Reflection;
using System.Security.Cryptography.X509Certificates;
using System.Text;

namespace Mlflow.Client.Rest;

/// <summary>Builds and configures the <see cref="HttpClient"/> the REST layer uses.</summary>
internal static class HttpClientConstruction
{
    internal static readonly string UserAgent =
        "mlflow-dotnet-client/" + (typeof(HttpClientConstruction).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion.Split('+')[0] ?? "0");

    /// <summary>A handler the client owns: pooled connections recycled every few minutes so DNS changes are seen.</summary>
    public static SocketsHttpHandler CreateOwnedHandler(MlflowClientOptions options)
    {
        var handler = new SocketsHttpHandler
        {
            PooledConnectionLifetime = TimeSpan.FromMinutes(5),
            PooledConnectionIdleTimeout = TimeSpan.FromMinutes(1),
            AutomaticDecompression = DecompressionMethods.GZip | DecompressionMethods.Deflate,
            AllowAutoRedirect = true,
            MaxConnectionsPerServer = 16,
        };

        if (options.InsecureTls)
        {
#pragma warning disable CA5359 // explicit opt-out by the user (InsecureTls / MLFLOW_TRACKING_INSECURE_TLS)
            handler.SslOptions.RemoteCertificateValidationCallback = static (_, _, _, _) => true;
#pragma warning restore CA5359
        }
        else if (options.ServerCertPath is { } caPath)
        {
            var trusted = new X509Certificate2Collection();
            trusted.ImportFromPemFile(caPath);
            handler.SslOptions.RemoteCertificateValidationCallback = (_, certificate, _, errors) =>
                ValidateAgainst(trusted, certificate, errors);
        }

        if (options.ClientCertPath is { } clientPath)
        {
            handler.SslOptions.ClientCertificates = [X509Certificate2.CreateFromPemFile(clientPath)];
        }

        return handler;
    }

    private static bool ValidateAgainst(X509Certificate2Collection trusted, X509Certificate? certificate, SslPolicyErrors errors)
    {
        if (errors == SslPolicyErrors.None)
        {
            return true;
        }

        if (certificate is null || (errors & SslPolicyErrors.RemoteCertificateNameMismatch) != 0)
        {
            return false;
        }

        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.AddRange(trusted);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        using var cert = new X509Certificate2(certificate);
        return chain.Build(cert);
    }

    /// <summary>Sets base address, timeout (only on clients this SDK owns) and user agent.</summary>
    public static void Configure(HttpClient client, Uri baseAddress, MlflowClientOptions options, bool owned)
    {
        client.BaseAddress ??= baseAddress;
        if (owned)
        {
            client.Timeout = options.RequestTimeout;
        }

        if (client.DefaultRequestHeaders.UserAgent.Count == 0)
        {
            client.DefaultRequestHeaders.TryAddWithoutValidation("User-Agent", UserAgent);
        }
    }

    /// <summary>
    /// Sets the fixed credentials on <paramref name="client"/>, a client whose handlers include the
    /// <see cref="Auth.CredentialScopeHandler"/> (never the caller's own client: it would send them to any host).
    /// </summary>
    public static void ConfigureCredentials(HttpClient client, MlflowClientOptions options)
    {
        if (client.DefaultRequestHeaders.Authorization is null && CreateAuthorization(options) is { } auth)
        {
            client.DefaultRequestHeaders.Authorization = auth;
        }
    }

    /// <summary>
    /// The fixed credentials: basic auth when user name and password are both set (it wins, as in MLflow), else bearer;
    /// none with a <see cref="MlflowClientOptions.TokenProvider"/>, whose handler sets the header of every attempt.
    /// </summary>
    public static AuthenticationHeaderValue? CreateAuthorization(MlflowClientOptions options)
    {
        if (options.TokenProvider is not null)
        {
            return null;
        }

        if (options.Username is { } user && options.Password is { } password)
        {
            return new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes(user + ":" + password)));
        }

        return options.Token is { } token ? new AuthenticationHeaderValue("Bearer", token) : null;
    }
}
