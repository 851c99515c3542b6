using System.Text;

namespace Mlflow.Client.FileStore;

internal sealed partial class LocalFileStore
{
    /// <summary>
    /// Writes a whole file atomically: a temp file in <paramref name="tempDir"/> (same file system, not a folder MLflow
    /// lists) renamed over the target; remembered for <see cref="FlushToDisk"/> when <see cref="TrackFilesForFlushToDisk"/>.
    /// </summary>
    internal void WriteTextAtomically(string tempDir, string target, string text)
    {
        var dir = Path.GetDirectoryName(target)!;
        Directory.CreateDirectory(dir);
        var temp = Path.Combine(tempDir, ".tmp-" + Guid.NewGuid().ToString("N"));
        try
        {
            File.WriteAllBytes(temp, Encoding.UTF8.GetBytes(text));
            File.Move(temp, target, overwrite: true);
            MarkForFlushToDisk(target);
        }
        finally
        {
            if (File.Exists(temp))
            {
                File.Delete(temp);
            }
        }
    }

    /// <summary>
    /// Forces to stable storage (fsync) every metric file this process has open under this store, and, when
    /// <see cref="TrackFilesForFlushToDisk"/> is set, every whole file (param, tag, <c>meta.yaml</c>, and what was passed to
    /// <see cref="MarkForFlushToDisk"/>) this instance wrote since the previous call. Returns once all of them are on
    /// disk, also when another thread is flushing at the same time.
    /// </summary>
    /// <remarks>
    /// Folder entries are not forced: .NET has no portable directory fsync. After a power loss (not a killed process,
    /// which loses nothing the system already has), a file created, renamed over or deleted shortly before may, on some
    /// file systems, show its previous state (a new param missing, a deleted tag back); content that is there is whole.
    /// Metric files closed by the handle cache before the call are not forced either.
    /// </remarks>
    internal void FlushToDisk()
    {
        RunWriters.FlushUnder(_root, toDisk: true);
        // Taken even when nothing is pending: a file another thread took from the set is on disk once that thread leaves.
        lock (_diskFlushLock)
        {
            foreach (var (path, _) in _awaitingDiskFlush)
            {
                if (_awaitingDiskFlush.TryRemove(path, out _))
                {
                    Interlocked.Decrement(ref _awaitingDiskFlushCount);
                    FlushFileToDisk(path);
                }
            }
        }
    }

    /// <summary>
    /// Remembers a file written whole (when <see cref="TrackFilesForFlushToDisk"/>) so that the next <see cref="FlushToDisk"/>
    /// forces it to disk; beyond <see cref="MaxFilesAwaitingFlushToDisk"/> files, it is forced at once. Cheap: a set insert.
    /// </summary>
    internal void MarkForFlushToDisk(string path)
    {
        if (!TrackFilesForFlushToDisk || _awaitingDiskFlush.ContainsKey(path))
        {
            return;
        }

        if (Volatile.Read(ref _awaitingDiskFlushCount) >= MaxFilesAwaitingFlushToDisk)
        {
            FlushFileToDisk(path);
            return;
        }

        if (_awaitingDiskFlush.TryAdd(path, 0))
        {
            Interlocked.Increment(ref _awaitingDiskFlushCount);
        }
    }

    private void FlushFileToDisk(string path)
    {
        try
        {
            // Opened for writing (nothing is written): FileStream forces only a handle it may write to, and Windows'
            // FlushFileBuffers needs write access.
            using var stream = new FileStream(path, FileMode.Open, FileAccess.Write, FileShare.ReadWrite | FileShare.Delete, bufferSize: 0);
            stream.Flush(flushToDisk: true);
        }
        catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException)
        {
            return; // deleted or moved since (a tag deleted, a run moved to the trash): nothing of it to keep
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            FileStoreLog.FlushToDiskFailed(_logger, path, ex);
            return;
        }

        Interlocked.Increment(ref _filesFlushedToDisk);
        FileFlushedToDisk?.Invoke(path);
    }
}
