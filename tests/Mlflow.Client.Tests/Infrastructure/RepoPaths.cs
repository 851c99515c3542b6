namespace Mlflow.Client.Tests.Infrastructure;

/// <summary>Finds the repository root and the shared reference material beside it (<c>../shared</c>).</summary>
internal static class RepoPaths
{
    private static readonly Lazy<string> Root = new(FindRoot);

    public static string RepoRoot => Root.Value;

    /// <summary><c>../shared/mlflow-fixtures</c>, or <c>MLFLOW_FIXTURES_DIR</c> when set.</summary>
    public static string FixturesDir
    {
        get
        {
            var overridden = Environment.GetEnvironmentVariable("MLFLOW_FIXTURES_DIR");
            var dir = !string.IsNullOrEmpty(overridden) ? overridden : Path.GetFullPath(Path.Combine(RepoRoot, "..", "shared", "mlflow-fixtures"));
            if (!Directory.Exists(dir))
            {
                throw new DirectoryNotFoundException($"MLflow fixtures not found at {dir}: the shared folder must sit beside the repository (or set MLFLOW_FIXTURES_DIR).");
            }

            return dir;
        }
    }

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Mlflow.Client.sln")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException("Mlflow.Client.sln not found above " + AppContext.BaseDirectory);
    }
}
