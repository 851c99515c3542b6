using Mlflow.Client.FileStore;

using NUnit.Framework;

namespace Mlflow.Client.Tests.FileStore;

/// <summary>A fresh store folder per test (inside a per-test parent folder, so escapes can be detected), deleted afterwards.</summary>
internal abstract class FileStoreTestBase
{
    protected static readonly CancellationToken None = CancellationToken.None;

    protected string Parent { get; private set; } = "";
    protected string Root { get; private set; } = "";
    protected LocalFileStore Store { get; private set; } = null!;

    [SetUp]
    public void CreateStore()
    {
        Parent = Path.Combine(Path.GetTempPath(), "mlflow-fs-tests", Guid.NewGuid().ToString("N"));
        Root = Path.Combine(Parent, "mlruns");
        Store = new LocalFileStore(Root);
    }

    [TearDown]
    public void DeleteStore()
    {
        Store.Dispose();
        try
        {
            Directory.Delete(Parent, recursive: true);
        }
        catch (IOException)
        {
            // best effort
        }
    }

    /// <summary>Every file and folder under the parent but outside the store root (must stay empty).</summary>
    protected string[] EntriesOutsideRoot()
        => Directory.EnumerateFileSystemEntries(Parent, "*", SearchOption.AllDirectories)
            .Where(p => !p.Equals(Root, StringComparison.Ordinal) && !p.StartsWith(Root + Path.DirectorySeparatorChar, StringComparison.Ordinal))
            .ToArray();

    protected async Task<(string ExperimentId, Run Run)> NewRunAsync(string? runName = null, IReadOnlyList<Tag>? tags = null)
    {
        var exp = await Store.CreateExperimentAsync("exp-" + Guid.NewGuid().ToString("N")[..8], null, null, None);
        var run = await Store.CreateRunAsync(exp, runName, 1_700_000_000_000, tags, "tester", None);
        return (exp, run);
    }

    /// <summary>The keys of a run's metric, param or tag files, as '/'-paths (none when the folder is missing).</summary>
    internal static string[] StoredKeys(string runDir, string folder)
    {
        var path = Path.Combine(runDir, folder);
        return Directory.Exists(path)
            ? Directory.EnumerateFiles(path, "*", SearchOption.AllDirectories).Select(f => Path.GetRelativePath(path, f).Replace(Path.DirectorySeparatorChar, '/')).ToArray()
            : [];
    }

    protected static byte[] Bytes(string path) => File.ReadAllBytes(path);

    protected static string Text(string path) => System.Text.Encoding.UTF8.GetString(File.ReadAllBytes(path));
}
