using System.Collections.Concurrent;

namespace Mlflow.Client.FileStore;

/// <summary>
/// Process-wide registry of per-run writers, keyed by the run's full folder path: the lock that serializes writes to
/// a run (also across store instances on one folder) and the open metric file handles of that run, in a bounded
/// least-recently-used cache.
/// </summary>
internal static class RunWriters
{
    /// <summary>Most metric files kept open by one run.</summary>
    internal const int MaxHandlesPerRun = 256;

    /// <summary>Most metric files kept open by the whole process.</summary>
    internal const int MaxHandlesTotal = 512;

    private static readonly ConcurrentDictionary<string, Writer> Writers = new(FileStorePaths.PathComparer);
    private static readonly Dictionary<string, int> OpenStores = new(FileStorePaths.PathComparer);
    private static int s_openHandles;
    private static long s_clock;

    /// <summary>Open metric handles in the process (for tests).</summary>
    internal static int OpenHandles => Volatile.Read(ref s_openHandles);

    /// <summary>One run's writer. Use only inside <see cref="WithWriter{T}"/>, which holds its lock.</summary>
    internal sealed class Writer(string runDir)
    {
        public string RunDir { get; } = runDir;
        public bool Closed { get; set; }
        public long LastUsed { get; set; }
        public Dictionary<string, MetricFile> Files { get; } = new(StringComparer.Ordinal);
        public RunMeta? Meta { get; set; }
        public DateTime MetaStamp { get; set; }
        public long MetaLength { get; set; }

        public void CloseAll()
        {
            foreach (var f in Files.Values)
            {
                f.Stream.Dispose();
                Interlocked.Decrement(ref s_openHandles);
            }

            Files.Clear();
        }
    }

    /// <summary>An open metric file.</summary>
    internal sealed class MetricFile(FileStream stream)
    {
        public FileStream Stream { get; } = stream;
        public long LastUsed { get; set; }
    }

    /// <summary>Runs <paramref name="action"/> holding the run's lock.</summary>
    public static T WithWriter<T>(string runDir, Func<Writer, T> action)
    {
        for (var attempt = 0; attempt < 16; attempt++)
        {
            var w = Writers.GetOrAdd(runDir, static d => new Writer(d));
            lock (w)
            {
                if (w.Closed)
                {
                    continue; // evicted between lookup and lock: take the fresh one
                }

                w.LastUsed = Interlocked.Increment(ref s_clock);
                try
                {
                    return action(w);
                }
                finally
                {
                    if (w.Files.Count > MaxHandlesPerRun)
                    {
                        foreach (var old in w.Files.OrderBy(kv => kv.Value.LastUsed).Take(w.Files.Count - MaxHandlesPerRun).ToList())
                        {
                            old.Value.Stream.Dispose();
                            w.Files.Remove(old.Key);
                            Interlocked.Decrement(ref s_openHandles);
                        }
                    }
                }
            }
        }

        throw new MlflowException($"Could not get the writer of run folder '{runDir}' (closed repeatedly by concurrent calls).");
    }

    /// <summary>Counts a newly opened handle and, above the process limit, closes the least recently used idle runs' handles.</summary>
    public static void OnOpened(Writer current)
    {
        if (Interlocked.Increment(ref s_openHandles) <= MaxHandlesTotal)
        {
            return;
        }

        foreach (var w in Writers.Values.Where(w => !ReferenceEquals(w, current)).OrderBy(w => w.LastUsed).ToList())
        {
            if (Volatile.Read(ref s_openHandles) <= MaxHandlesTotal * 3 / 4)
            {
                break;
            }

            if (Monitor.TryEnter(w))
            {
                try
                {
                    w.CloseAll();
                    w.Meta = null;
                }
                finally
                {
                    Monitor.Exit(w);
                }
            }
        }
    }

    /// <summary>Flushes (and with <paramref name="toDisk"/>, fsyncs) every open metric file under a folder.</summary>
    public static void FlushUnder(string folder, bool toDisk)
    {
        foreach (var w in Under(folder))
        {
            lock (w)
            {
                foreach (var f in w.Files.Values)
                {
                    f.Stream.Flush(toDisk);
                }
            }
        }
    }

    /// <summary>Counts a store instance opened on <paramref name="root"/> (see <see cref="ReleaseStore"/>).</summary>
    public static void OpenStore(string root)
    {
        lock (OpenStores)
        {
            OpenStores[root] = OpenStores.GetValueOrDefault(root) + 1;
        }
    }

    /// <summary>
    /// Forgets a store instance on <paramref name="root"/> and, when it was the last one open in the process, closes the
    /// writers under it: a second instance on the same folder (a client reading runs back, the offline layer of a
    /// tracker) shares the process-wide handles, so disposing it leaves the others' open.
    /// </summary>
    public static void ReleaseStore(string root)
    {
        lock (OpenStores)
        {
            var left = OpenStores.GetValueOrDefault(root) - 1;
            if (left > 0)
            {
                OpenStores[root] = left;
                return;
            }

            OpenStores.Remove(root);
        }

        CloseUnder(root);
    }

    /// <summary>Open metric handles of the runs under a folder (for tests).</summary>
    internal static int OpenHandlesUnder(string folder) => Under(folder).Sum(w =>
    {
        lock (w)
        {
            return w.Files.Count;
        }
    });

    /// <summary>Closes and forgets the writers of every run under a folder (an experiment about to move, or the last store on it disposed).</summary>
    public static void CloseUnder(string folder)
    {
        foreach (var w in Under(folder))
        {
            lock (w)
            {
                w.CloseAll();
                w.Closed = true;
                Writers.TryRemove(new KeyValuePair<string, Writer>(w.RunDir, w));
            }
        }
    }

    private static List<Writer> Under(string folder)
    {
        var prefix = folder.EndsWith(Path.DirectorySeparatorChar) ? folder : folder + Path.DirectorySeparatorChar;
        var cmp = ReferenceEquals(FileStorePaths.PathComparer, StringComparer.Ordinal) ? StringComparison.Ordinal : StringComparison.OrdinalIgnoreCase;
        return Writers.Values.Where(w => w.RunDir.StartsWith(prefix, cmp)).ToList();
    }
}
