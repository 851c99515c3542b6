namespace Mlflow.Client;

/// <summary>
/// A webhook URL as <c>ToString</c> shows it: the scheme, host and port only. Webhook URLs often carry their credential
/// in the path (Slack's <c>/services/T…/B…/token</c>, Teams' <c>/webhookb2/…</c>) or the query (<c>sig=</c>), and
/// user-info may hold a password, so none of them is shown; a path or query that was there is shown as <c>…</c>.
/// </summary>
internal static class WebhookUrlText
{
    /// <summary>The URL without user-info, path or query; a text that is not an absolute URL is shown as <c>…</c>.</summary>
    public static string Redact(string? url)
    {
        if (string.IsNullOrEmpty(url))
        {
            return "";
        }

        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || uri.IsFile || string.IsNullOrEmpty(uri.Host))
        {
            return "…";
        }

        var server = uri.GetComponents(UriComponents.SchemeAndServer, UriFormat.UriEscaped);
        var rest = uri.PathAndQuery.Length > 1 || uri.Fragment.Length > 0 ? "/…" : "";
        return server + rest;
    }
}
