namespace Mlflow.Client.Auth;

/// <summary>
/// Resolves the <c>databricks</c> and <c>databricks://profile</c> tracking URIs to the workspace's REST base and
/// credentials, as MLflow's Python client does through the Databricks CLI configuration: for <c>databricks</c>, the
/// <c>DATABRICKS_HOST</c> / <c>DATABRICKS_TOKEN</c> (or <c>…_USERNAME</c> / <c>…_PASSWORD</c>) variables, else the
/// <c>[DEFAULT]</c> profile of <c>~/.databrickscfg</c>; for <c>databricks://profile</c>, that profile of the file only.
/// <c>DATABRICKS_CONFIG_FILE</c> names another file. The workspace serves MLflow's REST API under
/// <c>&lt;host&gt;/api/2.0/mlflow/…</c>, the paths this client sends under its base URI, so the host becomes the base.
/// </summary>
internal static class DatabricksCredentials
{
    private const string Scheme = "databricks";
    private const string DefaultProfile = "DEFAULT";

    /// <summary>Whether the URI is <c>databricks</c> or <c>databricks://…</c>.</summary>
    public static bool IsDatabricksUri(string? uri)
    {
        var trimmed = uri?.Trim();
        return trimmed is not null
            && (string.Equals(trimmed, Scheme, StringComparison.OrdinalIgnoreCase) || trimmed.StartsWith(Scheme + "://", StringComparison.OrdinalIgnoreCase));
    }

    /// <summary>
    /// When <paramref name="options"/> (the client's own resolved copy) points at Databricks, replaces its tracking URI
    /// by the workspace host and its credentials (the <c>MLFLOW_TRACKING_*</c> ones included, as in MLflow) by the
    /// workspace's; throws <see cref="ArgumentException"/> naming the variables and the file when neither has them.
    /// Called where a client is built, after the tracker or the sync had their say on the URI, so a <c>databricks</c>
    /// value they override is never resolved.
    /// </summary>
    public static void Apply(MlflowClientOptions options, EnvironmentReader env)
    {
        if (!IsDatabricksUri(options.TrackingUri))
        {
            return;
        }

        var uri = options.TrackingUri!.Trim();
        var profile = ProfileOf(uri);
        var path = ConfigFilePath(env);
        var config = profile is null
            ? FromEnvironment(env) ?? FromFile(path, DefaultProfile)
            : FromFile(path, profile);
        if (config is null)
        {
            throw new ArgumentException(profile is null
                ? $"The tracking URI 'databricks' needs a workspace host and token: set {MlflowEnvironmentVariables.DatabricksHost} and {MlflowEnvironmentVariables.DatabricksToken} (or {MlflowEnvironmentVariables.DatabricksUsername} and {MlflowEnvironmentVariables.DatabricksPassword}), or write host and token under [{DefaultProfile}] in '{path}' ({MlflowEnvironmentVariables.DatabricksConfigFile} names another file)."
                : $"The tracking URI '{uri}' names the Databricks profile '{profile}', but '{path}' has no [{profile}] section with host and token (or username and password); {MlflowEnvironmentVariables.DatabricksConfigFile} names another file.",
                nameof(options));
        }

        var host = config.Value.Host.Trim().TrimEnd('/');
        options.TrackingUri = host.Contains("://", StringComparison.Ordinal) ? host : "https://" + host;
        options.Token = config.Value.Token;
        options.Username = config.Value.Token is null ? config.Value.Username : null;
        options.Password = config.Value.Token is null ? config.Value.Password : null;
    }

    /// <summary>The profile of <c>databricks://profile[:prefix]</c>; <see langword="null"/> for plain <c>databricks</c>.</summary>
    private static string? ProfileOf(string uri)
    {
        if (uri.Length == Scheme.Length)
        {
            return null;
        }

        var rest = uri[(Scheme.Length + 3)..];
        var end = rest.IndexOfAny([':', '/', '?', '#']);
        var profile = end < 0 ? rest : rest[..end];
        return profile.Length > 0
            ? profile
            : throw new ArgumentException($"The tracking URI '{uri}' has no profile: write 'databricks' or 'databricks://<profile>'.", nameof(uri));
    }

    private static string ConfigFilePath(EnvironmentReader env)
    {
        if (env.Get(MlflowEnvironmentVariables.DatabricksConfigFile) is { } file)
        {
            return file;
        }

        var home = env.Get(OperatingSystem.IsWindows() ? MlflowEnvironmentVariables.WindowsHome : MlflowEnvironmentVariables.Home)
            ?? Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);
        return Path.Combine(home, ".databrickscfg");
    }

    private static Config? FromEnvironment(EnvironmentReader env)
        => Config.Valid(
            env.Get(MlflowEnvironmentVariables.DatabricksHost),
            env.Get(MlflowEnvironmentVariables.DatabricksToken),
            env.Get(MlflowEnvironmentVariables.DatabricksUsername),
            env.Get(MlflowEnvironmentVariables.DatabricksPassword));

    /// <summary>The profile's own keys (a missing file or section is no configuration).</summary>
    private static Config? FromFile(string path, string profile)
    {
        if (!File.Exists(path))
        {
            return null;
        }

        var section = IniFile.ReadSection(File.ReadAllLines(path), profile);
        return section is null
            ? null
            : Config.Valid(section.GetValueOrDefault("host"), section.GetValueOrDefault("token"), section.GetValueOrDefault("username"), section.GetValueOrDefault("password"));
    }

    private readonly record struct Config(string Host, string? Token, string? Username, string? Password)
    {
        /// <summary>A host with a token, or with a user name and password, as the Databricks CLI requires.</summary>
        public static Config? Valid(string? host, string? token, string? username, string? password)
        {
            if (string.IsNullOrWhiteSpace(host))
            {
                return null;
            }

            if (!string.IsNullOrWhiteSpace(token))
            {
                return new Config(host, token.Trim(), null, null);
            }

            return username is not null && password is not null ? new Config(host, null, username, password) : null;
        }

        /// <summary>Never shows the secrets.</summary>
        public override string ToString() => $"Config {{ Host = {Host} }}";
    }
}
