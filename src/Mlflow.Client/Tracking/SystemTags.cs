using System.Reflection;

namespace Mlflow.Client;

/// <summary>The tags MLflow's Python <c>start_run()</c> sets, computed the .NET way.</summary>
internal static class SystemTags
{
    public const string User = "mlflow.user";
    public const string SourceName = "mlflow.source.name";
    public const string SourceType = "mlflow.source.type";
    public const string GitCommit = "mlflow.source.git.commit";
    public const string RunName = "mlflow.runName";
    public const string ParentRunId = "mlflow.parentRunId";

    private static readonly Lazy<(string Source, string? Commit)> Source = new(ComputeSource);

    /// <summary><c>MLFLOW_TRACKING_USERNAME</c> (or the configured user), else the OS user, else <c>unknown</c>.</summary>
    public static string ResolveUser(string? configuredUser)
    {
        if (!string.IsNullOrWhiteSpace(configuredUser))
        {
            return configuredUser;
        }

        try
        {
            var os = Environment.UserName;
            return string.IsNullOrWhiteSpace(os) ? "unknown" : os;
        }
#pragma warning disable CA1031 // the user name is best effort
        catch (Exception)
#pragma warning restore CA1031
        {
            return "unknown";
        }
    }

    /// <summary>The entry assembly's path (the process path for single-file apps).</summary>
    public static string SourceNameValue => Source.Value.Source;

    /// <summary>The commit of the git tree holding the entry assembly, if any.</summary>
    public static string? GitCommitValue => Source.Value.Commit;

    private static (string, string?) ComputeSource()
    {
        string? path = null;
        try
        {
            path = Assembly.GetEntryAssembly()?.Location;
            if (string.IsNullOrEmpty(path))
            {
                path = Environment.ProcessPath;
            }
        }
#pragma warning disable CA1031 // best effort
        catch (Exception)
#pragma warning restore CA1031
        {
        }

        if (string.IsNullOrEmpty(path))
        {
            return ("<unknown>", null);
        }

        return (path, GitCommitReader.TryRead(Path.GetDirectoryName(path)));
    }
}
