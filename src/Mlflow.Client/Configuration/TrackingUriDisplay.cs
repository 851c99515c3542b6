namespace Mlflow.Client;

/// <summary>Shows a tracking URI without the user-info part (<c>http://user:pass@host</c>).</summary>
internal static class TrackingUriDisplay
{
    public static string? Redact(string? uri)
    {
        if (uri is null)
        {
            return null;
        }

        if (Uri.TryCreate(uri, UriKind.Absolute, out var u) && !string.IsNullOrEmpty(u.UserInfo))
        {
            return new UriBuilder(u) { UserName = "***", Password = "" }.Uri.ToString();
        }

        return uri;
    }
}
