namespace Mlflow.Client;

/// <summary>
/// A <c>models:/</c> URI parsed as MLflow 3's <c>_parse_model_uri</c> does: <c>models:/name/3</c> (a version),
/// <c>models:/name/latest</c> (the newest version), <c>models:/name/Production</c> (the newest of a stage),
/// <c>models:/name@champion</c> (an alias) or <c>models:/m-&lt;id&gt;</c> (a logged model: one segment without
/// <c>@</c>, which MLflow 2 refused).
/// </summary>
internal sealed record ModelUri(string Name, string? Version, string? Stage, string? Alias)
{
    /// <summary>The logged model a <c>models:/&lt;model id&gt;</c> URI names (its <see cref="Name"/> is then empty); <see langword="null"/> for a registered model.</summary>
    public string? ModelId { get; private init; }

    public const string Scheme = "models:";

    public static bool IsModelUri(string uri) => uri.StartsWith(Scheme, StringComparison.OrdinalIgnoreCase);

    public static ModelUri Parse(string uri)
    {
        ArgumentException.ThrowIfNullOrEmpty(uri);
        if (!IsModelUri(uri))
        {
            throw Improper(uri);
        }

        var path = uri[Scheme.Length..];
        if (path.StartsWith("//", StringComparison.Ordinal))
        {
            // models://profile/name/1: a Databricks profile, which only Databricks resolves.
            throw new NotSupportedException($"The model URI '{uri}' names a registry host (models://...); only models:/name/... URIs of this tracker's registry are supported.");
        }

        if (!path.StartsWith('/') || path.Length <= 1)
        {
            throw Improper(uri);
        }

        var parts = path[1..].Split('/');
        if (parts.Length > 2 || parts[0].Trim().Length == 0)
        {
            throw Improper(uri);
        }

        if (parts.Length == 2)
        {
            var suffix = parts[1];
            if (suffix.Trim().Length == 0)
            {
                throw Improper(uri);
            }

            if (suffix.All(char.IsAsciiDigit))
            {
                return new ModelUri(parts[0], suffix, null, null);
            }

            return suffix.Equals("latest", StringComparison.OrdinalIgnoreCase)
                ? new ModelUri(parts[0], null, null, null)
                : new ModelUri(parts[0], null, suffix, null);
        }

        var at = parts[0].LastIndexOf('@');
        if (at < 0)
        {
            // MLflow 3: models:/<model id>, a logged model (models:/m-<32 hex> on MLflow's own stores).
            return new ModelUri("", null, null, null) { ModelId = parts[0] };
        }

        if (parts[0][(at + 1)..].Trim().Length == 0)
        {
            throw Improper(uri);
        }

        return new ModelUri(parts[0][..at], null, null, parts[0][(at + 1)..]);
    }

    /// <summary>The logged model id of a <c>models:/&lt;model id&gt;</c> URI (MLflow's <c>_parse_model_id_if_present</c> for such a URI); <see langword="null"/> for anything else.</summary>
    public static string? LoggedModelIdOf(string? uri)
    {
        if (uri is null || !IsModelUri(uri))
        {
            return null;
        }

        try
        {
            return Parse(uri).ModelId;
        }
        catch (Exception ex) when (ex is MlflowException or NotSupportedException)
        {
            return null;
        }
    }

    private static MlflowException Improper(string uri)
        => new($"Not a proper models:/ URI: {uri}. Models URIs must be of the form 'models:/model_name/suffix', 'models:/model_name@alias' or 'models:/<model id>' (an MLflow 3 logged model, 'models:/m-...') where suffix is a model version, stage, or the string 'latest' and where alias is a registered model alias. Only one of suffix or alias can be defined at a time.");
}

/// <summary><c>runs:/&lt;run id&gt;/&lt;path&gt;</c> URIs, as MLflow's <c>RunsArtifactRepository.parse_runs_uri</c> reads them.</summary>
internal static class RunsUri
{
    public const string Scheme = "runs:";

    /// <summary>Splits a runs URI into the run id and the path under its artifacts (empty for the root).</summary>
    /// <exception cref="MlflowException">The URI starts with <c>runs:</c> but names no run.</exception>
    public static bool TryParse(string uri, out string runId, out string path)
    {
        runId = "";
        path = "";
        if (!uri.StartsWith(Scheme, StringComparison.OrdinalIgnoreCase))
        {
            return false;
        }

        var rest = uri[Scheme.Length..];
        if (!rest.StartsWith('/') || rest.StartsWith("//", StringComparison.Ordinal) || rest.Length <= 1)
        {
            throw new MlflowException($"Not a proper runs:/ URI: {uri}. Runs URIs must be of the form 'runs:/<run_id>/run-relative/path/to/artifact'");
        }

        var slash = rest.IndexOf('/', 1);
        runId = slash < 0 ? rest[1..] : rest[1..slash];
        MlflowValidation.ValidateRunId(runId);
        path = slash < 0 ? "" : string.Join('/', Rest.ArtifactLocation.SplitRelativePath(rest[(slash + 1)..], allowEmpty: true));
        return true;
    }
}
