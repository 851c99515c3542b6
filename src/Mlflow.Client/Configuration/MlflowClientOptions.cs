using Microsoft.Extensions.Logging;

namespace Mlflow.Client;

/// <summary>
/// Where the MLflow tracking server is and how to reach it. Every setting left unset falls back to the
/// environment variable MLflow's Python client reads (see <see cref="FromEnvironment"/>).
/// </summary>
public sealed class MlflowClientOptions
{
    /// <summary>Default per-request timeout, as MLflow's <c>MLFLOW_HTTP_REQUEST_TIMEOUT</c> (120 s).</summary>
    internal static readonly TimeSpan DefaultRequestTimeout = TimeSpan.FromSeconds(120);

    /// <summary>
    /// The tracking URI: <c>http(s)://host[:port][/prefix]</c> for a server, <c>databricks</c> or
    /// <c>databricks://profile</c> for a Databricks workspace (host and token from <c>DATABRICKS_HOST</c> /
    /// <c>DATABRICKS_TOKEN</c> or <c>~/.databrickscfg</c>, as MLflow), <c>file:</c> URIs or plain paths for a local
    /// store. <see langword="null"/> means <c>MLFLOW_TRACKING_URI</c>, then <c>./mlruns</c>.
    /// </summary>
    public string? TrackingUri { get; set; }

    /// <summary>User name for HTTP basic auth (<c>MLFLOW_TRACKING_USERNAME</c>).</summary>
    public string? Username { get; set; }

    /// <summary>Password for HTTP basic auth (<c>MLFLOW_TRACKING_PASSWORD</c>). Never logged or shown.</summary>
    public string? Password { get; set; }

    /// <summary>Bearer token (<c>MLFLOW_TRACKING_TOKEN</c>); basic auth wins when user name and password are both set. Never logged or shown.</summary>
    public string? Token { get; set; }

    /// <summary>
    /// Supplies a bearer token before every request, for servers whose tokens expire; it takes precedence over
    /// <see cref="Token"/> and basic auth. A 401 answer makes the client ask it once more with <c>forceRefresh</c> and
    /// resend the request once (see <see cref="IMlflowTokenProvider"/>).
    /// </summary>
    public IMlflowTokenProvider? TokenProvider { get; set; }

    /// <summary>Skip TLS certificate validation (<c>MLFLOW_TRACKING_INSECURE_TLS</c>). Off unless you opt out explicitly.</summary>
    public bool InsecureTls { get; set; }

    /// <summary>A PEM CA bundle to validate the server certificate against (<c>MLFLOW_TRACKING_SERVER_CERT_PATH</c>).</summary>
    public string? ServerCertPath { get; set; }

    /// <summary>A PEM file with the client certificate and key for mutual TLS (<c>MLFLOW_TRACKING_CLIENT_CERT_PATH</c>).</summary>
    public string? ClientCertPath { get; set; }

    /// <summary>Timeout of one request attempt (<c>MLFLOW_HTTP_REQUEST_TIMEOUT</c>, seconds; default 120 s).</summary>
    public TimeSpan RequestTimeout { get; set; } = DefaultRequestTimeout;

    /// <summary>
    /// Name of the client taken from an <see cref="System.Net.Http.IHttpClientFactory"/>, when the client is built from one.
    /// </summary>
    public string HttpClientName { get; set; } = "Mlflow.Client";

    /// <summary>
    /// Retries, per-attempt timeout and circuit breaker of every HTTP request, whichever constructor built the client
    /// (<c>MLFLOW_HTTP_REQUEST_MAX_RETRIES</c>, <c>…_BACKOFF_FACTOR</c>, <c>…_BACKOFF_JITTER</c>, <c>MLFLOW_HTTP_RESPECT_RETRY_AFTER_HEADER</c>).
    /// </summary>
    public MlflowRetryOptions Retry { get; set; } = new();

    /// <summary>Where the client logs (retries at Warning, without query strings or credentials); <see langword="null"/> = no logging.</summary>
    public ILoggerFactory? LoggerFactory { get; set; }

    /// <summary>Creates options from the <c>MLFLOW_*</c> environment variables of the current process.</summary>
    /// <returns>Options with every variable that is set applied.</returns>
    public static MlflowClientOptions FromEnvironment() => new MlflowClientOptions().WithEnvironmentDefaults(EnvironmentReader.Process);

    /// <summary>A copy in which every unset value is taken from the environment.</summary>
    internal MlflowClientOptions WithEnvironmentDefaults(EnvironmentReader env)
    {
        var copy = (MlflowClientOptions)MemberwiseClone();
        copy.TrackingUri ??= env.Get(MlflowEnvironmentVariables.TrackingUri);
        copy.Username ??= env.Get(MlflowEnvironmentVariables.TrackingUsername);
        copy.Password ??= env.Get(MlflowEnvironmentVariables.TrackingPassword);
        copy.Token ??= env.Get(MlflowEnvironmentVariables.TrackingToken);
        copy.ServerCertPath ??= env.Get(MlflowEnvironmentVariables.TrackingServerCertPath);
        copy.ClientCertPath ??= env.Get(MlflowEnvironmentVariables.TrackingClientCertPath);
        if (!copy.InsecureTls && env.GetBool(MlflowEnvironmentVariables.TrackingInsecureTls) == true)
        {
            copy.InsecureTls = true;
        }

        if (copy.RequestTimeout == DefaultRequestTimeout && env.GetDouble(MlflowEnvironmentVariables.HttpRequestTimeout) is { } seconds && seconds > 0)
        {
            copy.RequestTimeout = TimeSpan.FromSeconds(seconds);
        }

        copy.Retry = (copy.Retry ?? new MlflowRetryOptions()).WithEnvironmentDefaults(env);
        return copy;
    }

    /// <summary>Checks the options; throws <see cref="ArgumentException"/> naming the setting at fault.</summary>
    internal void Validate()
    {
        if (InsecureTls && ServerCertPath is not null)
        {
            throw new ArgumentException("InsecureTls (MLFLOW_TRACKING_INSECURE_TLS) and ServerCertPath (MLFLOW_TRACKING_SERVER_CERT_PATH) cannot both be set.", nameof(InsecureTls));
        }

        if (RequestTimeout <= TimeSpan.Zero && RequestTimeout != Timeout.InfiniteTimeSpan)
        {
            throw new ArgumentOutOfRangeException(nameof(RequestTimeout), RequestTimeout, "RequestTimeout must be positive.");
        }

        (Retry ?? throw new ArgumentNullException(nameof(Retry), "Retry must not be null.")).Validate();
    }

    /// <summary>A description without credentials.</summary>
    /// <returns>The tracking URI and which kinds of credentials are set.</returns>
    public override string ToString()
        => $"MlflowClientOptions {{ TrackingUri = {TrackingUriDisplay.Redact(TrackingUri) ?? "(default)"}, Username = {(Username is null ? "(none)" : "***")}, Password = {(Password is null ? "(none)" : "***")}, Token = {(Token is null ? "(none)" : "***")}, TokenProvider = {(TokenProvider is null ? "(none)" : "set")}, InsecureTls = {InsecureTls}, RequestTimeout = {RequestTimeout} }}";
}
