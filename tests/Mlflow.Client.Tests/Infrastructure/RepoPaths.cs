namespace Mlflow.Client.Tests.Infrastructure;

/// <summary>Finds the repository root and the recorded fixtures inside it (<c>tests/Fixtures</c>).</summary>
internal static class RepoPaths
{
    private static readonly Lazy<string> Root = new(FindRoot);

    public static string RepoRoot => Root.Value;

    /// <summary><c>tests/Fixtures</c> of this repository, or <c>MLFLOW_FIXTURES_DIR</c> when set.</summary>
    public static string FixturesDir
    {
        get
        {
            var overridden = Environment.GetEnvironmentVariable("MLFLOW_FIXTURES_DIR");
            var dir = !string.IsNullOrEmpty(overridden) ? overridden : Path.Combine(RepoRoot, "tests", "Fixtures");
            if (!Directory.Exists(dir))
            {
                throw new DirectoryNotFoundException($"MLflow fixtures not found at {dir} (tests/Fixtures of the repository, or MLFLOW_FIXTURES_DIR when set).");
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
