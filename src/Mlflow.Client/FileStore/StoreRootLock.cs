using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;

namespace Mlflow.Client.FileStore;

/// <summary>
/// The exclusive lock of one store root, held while an experiment is created, deleted or restored, so that two creators
/// of one name (threads, store instances or processes) end with one experiment. The lock file is kept outside the store,
/// in <c>&lt;temp folder&gt;/mlflow-dotnet-locks/&lt;SHA-256 of the root's full path&gt;.lock</c>: the store tree holds
/// only what MLflow's FileStore writes.
/// </summary>
/// <remarks>
/// <para>Holding the lock is holding an exclusive open of that file (<c>flock</c> on Unix, a handle that shares
/// nothing on Windows): it excludes every other handle, of this process or another, and it ends with the process. The
/// file is empty and never deleted: deleting it while another process waits for it would let two holders in.</para>
/// <para>It excludes the processes of one machine that share a temp folder and name the store by one full path (on
/// Windows and macOS in any letter case). Two paths to one folder (a symbolic link, a second mount point), processes with
/// different temp folders, or machines and containers sharing the store over a volume take different locks.</para>
/// </remarks>
internal static class StoreRootLock
{
    /// <summary>The folder of the lock files; shared by the users of a machine, as the temp folder itself.</summary>
    internal static string FolderPath => Path.Combine(Path.GetTempPath(), "mlflow-dotnet-locks");

    /// <summary>The lock file of a store root (a full path, as <see cref="LocalFileStore.RootDirectory"/>).</summary>
    internal static string PathFor(string root)
    {
        var key = ReferenceEquals(FileStorePaths.PathComparer, StringComparer.Ordinal) ? root : root.ToUpperInvariant();
        return Path.Combine(FolderPath, Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(key))).ToLowerInvariant() + ".lock");
    }

    /// <summary>Takes the lock of <paramref name="root"/>, waiting at most <paramref name="timeout"/>; dispose the result to release it.</summary>
    /// <exception cref="MlflowException">The lock is still held elsewhere after <paramref name="timeout"/>, or its file cannot be opened.</exception>
    internal static FileStream Acquire(string root, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var path = PathFor(root);
        var clock = Stopwatch.StartNew();
        for (var attempt = 0; ; attempt++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            try
            {
                return Open(path);
            }
            catch (IOException) when (clock.Elapsed < timeout)
            {
                Thread.Sleep(Math.Min(5 + attempt, 50));
            }
            catch (IOException ex)
            {
                throw new MlflowException($"Could not lock the local store '{root}' within {timeout.TotalSeconds:0.###} s ({path} is held by another writer).", ex);
            }
            catch (UnauthorizedAccessException ex)
            {
                throw new MlflowException($"Could not open {path}, the lock file of the local store '{root}'.", ex);
            }
        }
    }

    /// <summary>Opens the lock file exclusively, read-only (the lock needs no write access: another user's file serves too).</summary>
    private static FileStream Open(string path)
    {
        try
        {
            // An existing file first: creating-or-opening another user's file in a sticky folder is refused on Linux
            // (fs.protected_regular), plain opening is not.
            return new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.None, 1, FileOptions.None);
        }
        catch (FileNotFoundException)
        {
        }
        catch (DirectoryNotFoundException)
        {
            CreateFolder();
        }

        return new FileStream(path, FileMode.OpenOrCreate, FileAccess.Read, FileShare.None, 1, FileOptions.None);
    }

    private static void CreateFolder()
    {
        var folder = FolderPath;
        if (OperatingSystem.IsWindows())
        {
            Directory.CreateDirectory(folder);
            return;
        }

        // As /tmp: everyone may add files, only a file's owner may remove it (the sticky bit). Set again after creating
        // because the creation mode is narrowed by the umask.
        const UnixFileMode Shared = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute
            | UnixFileMode.GroupRead | UnixFileMode.GroupWrite | UnixFileMode.GroupExecute
            | UnixFileMode.OtherRead | UnixFileMode.OtherWrite | UnixFileMode.OtherExecute | UnixFileMode.StickyBit;
        Directory.CreateDirectory(folder, Shared);
        try
        {
            File.SetUnixFileMode(folder, Shared);
        }
        catch (UnauthorizedAccessException)
        {
            // created by another user meanwhile, with the same mode
        }
    }
}
