namespace Mlflow.Client;

/// <summary>The names of the environment variables this SDK reads, the same as MLflow's Python client.</summary>
public static class MlflowEnvironmentVariables
{
    /// <summary>The tracking URI.</summary>
    public const string TrackingUri = "MLFLOW_TRACKING_URI";
    /// <summary>User name for basic auth.</summary>
    public const string TrackingUsername = "MLFLOW_TRACKING_USERNAME";
    /// <summary>Password for basic auth.</summary>
    public const string TrackingPassword = "MLFLOW_TRACKING_PASSWORD";
    /// <summary>Bearer token.</summary>
    public const string TrackingToken = "MLFLOW_TRACKING_TOKEN";
    /// <summary>Skip TLS certificate validation (<c>true</c>/<c>false</c>).</summary>
    public const string TrackingInsecureTls = "MLFLOW_TRACKING_INSECURE_TLS";
    /// <summary>CA bundle to validate the server certificate.</summary>
    public const string TrackingServerCertPath = "MLFLOW_TRACKING_SERVER_CERT_PATH";
    /// <summary>Client certificate for mutual TLS.</summary>
    public const string TrackingClientCertPath = "MLFLOW_TRACKING_CLIENT_CERT_PATH";
    /// <summary>Per-request timeout in seconds.</summary>
    public const string HttpRequestTimeout = "MLFLOW_HTTP_REQUEST_TIMEOUT";
    /// <summary>Maximum number of retries of a request.</summary>
    public const string HttpRequestMaxRetries = "MLFLOW_HTTP_REQUEST_MAX_RETRIES";
    /// <summary>Exponential backoff factor in seconds.</summary>
    public const string HttpRequestBackoffFactor = "MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR";
    /// <summary>Random jitter added to each backoff, in seconds.</summary>
    public const string HttpRequestBackoffJitter = "MLFLOW_HTTP_REQUEST_BACKOFF_JITTER";
    /// <summary>Honour a <c>Retry-After</c> header of 413, 429 and 503 answers (<c>true</c>/<c>false</c>).</summary>
    public const string HttpRespectRetryAfterHeader = "MLFLOW_HTTP_RESPECT_RETRY_AFTER_HEADER";
    /// <summary>Name of the default experiment (created if missing).</summary>
    public const string ExperimentName = "MLFLOW_EXPERIMENT_NAME";
    /// <summary>Id of the default experiment.</summary>
    public const string ExperimentId = "MLFLOW_EXPERIMENT_ID";
    /// <summary>Id of a run to resume.</summary>
    public const string RunId = "MLFLOW_RUN_ID";
    /// <summary>Root folder of the local file store.</summary>
    public const string TrackingDir = "MLFLOW_TRACKING_DIR";
    /// <summary>Folder of the tracker's offline copies when <see cref="MlflowOfflineOptions.Directory"/> is unset (this SDK's own variable).</summary>
    public const string OfflineDir = "MLFLOW_DOTNET_OFFLINE_DIR";
    /// <summary>Databricks workspace URL, for the <c>databricks</c> tracking URI.</summary>
    public const string DatabricksHost = "DATABRICKS_HOST";
    /// <summary>Databricks personal access token, for the <c>databricks</c> tracking URI.</summary>
    public const string DatabricksToken = "DATABRICKS_TOKEN";
    /// <summary>Databricks user name (with <see cref="DatabricksPassword"/>, instead of a token).</summary>
    public const string DatabricksUsername = "DATABRICKS_USERNAME";
    /// <summary>Databricks password (with <see cref="DatabricksUsername"/>, instead of a token).</summary>
    public const string DatabricksPassword = "DATABRICKS_PASSWORD";
    /// <summary>The Databricks CLI configuration file (default <c>~/.databrickscfg</c>).</summary>
    public const string DatabricksConfigFile = "DATABRICKS_CONFIG_FILE";
    /// <summary>The home folder on Unix, where <c>.databrickscfg</c> is looked for.</summary>
    internal const string Home = "HOME";
    /// <summary>The home folder on Windows, where <c>.databrickscfg</c> is looked for.</summary>
    internal const string WindowsHome = "USERPROFILE";
}
