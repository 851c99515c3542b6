namespace Mlflow.Client;

/// <summary>
/// Tracking URIs that name a database (<c>sqlite:</c>, <c>postgresql:</c>, <c>mysql:</c>, <c>mssql:</c>, with or without a
/// <c>+driver</c>): MLflow's Python client opens them itself, this SDK talks to a tracking server instead, so the refusal
/// says how to serve that database.
/// </summary>
internal static class DatabaseTrackingUri
{
    /// <summary>Whether <paramref name="uri"/> names one of MLflow's SQL backends.</summary>
    public static bool IsDatabase(string? uri)
    {
        var colon = uri?.IndexOf(':', StringComparison.Ordinal) ?? -1;
        if (colon <= 1)
        {
            return false;
        }

        var scheme = uri![..colon].Trim().ToLowerInvariant();
        var plus = scheme.IndexOf('+', StringComparison.Ordinal);
        return (plus < 0 ? scheme : scheme[..plus]) is "sqlite" or "postgresql" or "postgres" or "mysql" or "mssql";
    }

    /// <summary>
    /// What to do instead, for a database URI (empty otherwise): serve it with <c>mlflow server --backend-store-uri</c>
    /// and log to the server's http URI. The URI is shown without its credentials.
    /// </summary>
    public static string Advice(string? uri)
        => IsDatabase(uri)
            ? $" To log to that database, serve it with a tracking server: mlflow server --backend-store-uri {TrackingUriDisplay.Redact(uri!.Trim())} (it listens on http://127.0.0.1:5000 by default), and use the server's http URI as the tracking URI (MlflowTrackerOptions.TrackingUri or {MlflowEnvironmentVariables.TrackingUri})."
            : "";
}
