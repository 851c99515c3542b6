using Mlflow.Client.FileStore;
using Mlflow.Client.Tests.Infrastructure;

using NUnit.Framework;

namespace Mlflow.Client.Tests.FileStore;

/// <summary>A fresh store folder per test (inside a per-test parent folder, so escapes can be detected), deleted afterwards.</summary>
internal abstract class FileStoreTestBase
{
    protected static readonly CancellationToken None = CancellationToken.None;

    /// <summary>A store tree MLflow's Python client wrote (experiment 734897640822971021, one deleted experiment).</summary>
    protected static string MlflowExample => Path.Combine(RepoPaths.FixturesDir, "filestore-example");

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
        foreach (var delete in new Action[] { () => Directory.Delete(Parent, recursive: true), () => File.Delete(StoreRootLock.PathFor(Root)) })
        {
            try
            {
                delete(); // the store, then its lock file (outside the store, there once the store took the lock)
            }
            catch (IOException)
            {
                // best effort
            }
        }
    }

    /// <summary>Every file and folder under the parent but outside the store root (must stay empty).</summary>
    protected string[] EntriesOutsideRoot()
        => Directory.EnumerateFileSystemEntries(Parent, "*", SearchOption.AllDirectories)
            .Where(p => !p.Equals(Root, StringComparison.Ordinal) && !p.StartsWith(Root + Path.DirectorySeparatorChar, StringComparison.Ordinal))
            .ToArray();

    /// <summary>
    /// The entries of one folder (not recursive) by kind, ids left out: <c>&lt;experiment id&gt;/</c> for a folder named
    /// by digits, <c>&lt;run id&gt;/</c> for one named by 32 hex digits, <c>name/</c> for another folder, a file by its
    /// name. Compares a tree of ours with one MLflow wrote (<c>filestore-example/</c>) whatever ids each holds.
    /// </summary>
    protected static string[] EntryKinds(string folder)
        => Directory.EnumerateFileSystemEntries(folder)
            .Select(path => (Name: Path.GetFileName(path), IsFolder: Directory.Exists(path)))
            .Select(e => !e.IsFolder ? e.Name
                : e.Name.All(char.IsAsciiDigit) ? "<experiment id>/"
                : e.Name.Length == 32 && e.Name.All(char.IsAsciiHexDigitLower) ? "<run id>/"
                : e.Name + "/")
            .Distinct()
            .Order(StringComparer.Ordinal)
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
