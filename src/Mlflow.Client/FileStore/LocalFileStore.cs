using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Mlflow.Client.Store;

namespace Mlflow.Client.FileStore;

/// <summary>
/// The local tracking store in MLflow's own on-disk format (<c>./mlruns</c>, MLflow 2.x FileStore): what MLflow's
/// Python client, <c>mlflow ui</c> and <c>mlflow server --backend-store-uri ./mlruns</c> read. Used when no tracking
/// server is configured.
/// </summary>
/// <remarks>
/// <para>Layout and formats follow MLflow 2.12 byte for byte where MLflow is strict (see <c>filestore-example/</c>):
/// experiment and run <c>meta.yaml</c> (written atomically: temp file + rename), metric files of
/// <c>"&lt;ts&gt; &lt;value&gt; &lt;step&gt;\n"</c> lines with Python float text, params and tags as raw files.</para>
/// <para>MLflow 3 traces and assessments follow MLflow 3.11.1's file store (<c>&lt;experiment&gt;/traces/&lt;trace id&gt;/</c>,
/// see <c>filestore-mlflow3-traces/</c> and <see cref="TraceFiles"/>), so MLflow 3's Python pointed at the folder reads them.</para>
/// <para>Metric appends keep one file handle per (run, key) open in a process-wide bounded cache, write a batch's
/// lines of one key in one system call and are visible to other readers when the call returns (no fsync per call:
/// <see cref="FlushToDisk"/> does that, also for the param, tag and <c>meta.yaml</c> files written since the previous
/// call when <see cref="TrackFilesForFlushToDisk"/> is set).</para>
/// <para>Concurrency: calls on one run are serialized in the process (also across instances on the same folder);
/// processes may log to different runs of one store; experiment creation, deletion and restore take the store's
/// exclusive lock (<see cref="StoreRootLock"/>, a file outside the store), so two creators of one name end with one
/// experiment. Two processes appending to the same metric of the same run at the same time are not supported (.NET
/// does not open files with O_APPEND).</para>
/// <para>Torn last line (a writer killed mid-line): readers skip it and report it (<see cref="TornLinesSkipped"/>,
/// <see cref="TornLineObserved"/>, a log warning); the next append to that file first cuts the partial line, so the
/// file is again valid for MLflow's own reader (which would otherwise fail on it).</para>
/// </remarks>
internal sealed partial class LocalFileStore : ITrackingStore
{
    internal const string TrashFolderName = ".trash";
    internal const string MetaFileName = "meta.yaml";
    internal const string DefaultExperimentId = "0";
    private const string RunNameTag = "mlflow.runName";

    private static readonly string[] ReservedExperimentFolders = ["tags", "datasets", "traces", "models"];

    private readonly string _root;
    private readonly string _rootUri;
    private readonly string _trash;
    private readonly ILogger _logger;
    private readonly ConcurrentDictionary<string, string> _runDirs = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, byte> _validMetricKeys = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, byte> _truncationWarned = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, byte> _awaitingDiskFlush = new(FileStorePaths.PathComparer);
    private readonly object _diskFlushLock = new();
    private long _tornLines;
    private int _disposed;
    private int _awaitingDiskFlushCount;
    private long _filesFlushedToDisk;

    /// <summary>Opens (and creates, with experiment <c>0</c> "Default" and <c>.trash/</c>) a store folder.</summary>
    /// <param name="rootDirectory">The store's root folder (relative paths are resolved against the current directory).</param>
    /// <param name="logger">Where warnings go (torn lines, truncated values, skipped malformed entities).</param>
    public LocalFileStore(string rootDirectory, ILogger? logger = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(rootDirectory);
        _root = Path.TrimEndingDirectorySeparator(Path.GetFullPath(rootDirectory));
        _rootUri = FileStorePaths.ToFileUri(_root);
        _trash = Path.Combine(_root, TrashFolderName);
        _logger = logger ?? NullLogger.Instance;
        if (File.Exists(_root))
        {
            throw new MlflowException($"The local store root '{_root}' is a file, not a folder.");
        }

        if (!Directory.Exists(_root))
        {
            Directory.CreateDirectory(_root);
            CreateDefaultExperiment();
        }

        Directory.CreateDirectory(_trash);
        RunWriters.OpenStore(_root);
    }

    /// <summary>The store's root folder (absolute).</summary>
    public string RootDirectory => _root;

    /// <inheritdoc />
    public string Description => "local store " + _root;

    /// <inheritdoc />
    public string Destination => _root;

    /// <inheritdoc />
    public bool IsLocal => true;

    /// <inheritdoc />
    public LocalFileStore? LoggedModelStore => this;

    /// <inheritdoc />
    public MlflowModelRegistry CreateRegistry() => new(this, new LocalModelRegistry(this), null);

    /// <summary>How long experiment creation, deletion and restore wait for the store's lock held elsewhere.</summary>
    internal TimeSpan LockTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>When set, over-long param and tag values are refused instead of cut to the server's limit.</summary>
    internal bool RefuseLongValues { get; init; }

    /// <summary>
    /// When set, every whole file this instance writes (params, tags, <c>meta.yaml</c> files) is remembered until
    /// <see cref="FlushToDisk"/> forces it to disk. Off by default: a store nobody flushes to disk keeps nothing.
    /// </summary>
    internal bool TrackFilesForFlushToDisk { get; init; }

    /// <summary>Most files remembered for <see cref="FlushToDisk"/>; one written beyond that is forced to disk at once.</summary>
    internal int MaxFilesAwaitingFlushToDisk { get; init; } = 4096;

    /// <summary>Files written whole and not forced to disk yet (a snapshot).</summary>
    internal IReadOnlyCollection<string> FilesAwaitingFlushToDisk => _awaitingDiskFlush.Keys.ToArray();

    /// <summary>Whole files forced to disk so far by this instance.</summary>
    internal long FilesFlushedToDisk => Interlocked.Read(ref _filesFlushedToDisk);

    /// <summary>Called with the path of every whole file forced to disk (after the fsync returned).</summary>
    internal Action<string>? FileFlushedToDisk { get; set; }

    /// <summary>Metric lines skipped by readers because they were torn or malformed.</summary>
    internal long TornLinesSkipped => Interlocked.Read(ref _tornLines);

    /// <summary>Called with (file path, 1-based line number, reason) for every skipped metric line.</summary>
    internal Action<string, int, string>? TornLineObserved { get; set; }

    /// <summary>
    /// Maps a tracking URI to a store folder: <see langword="null"/>/empty → <c>MLFLOW_TRACKING_DIR</c> or
    /// <c>./mlruns</c>; <c>file:///abs</c>, <c>file:rel</c> and plain paths → that folder.
    /// </summary>
    /// <exception cref="ArgumentException">The URI names a server or another backend (http, sqlite, databricks...).</exception>
    internal static string ResolveRoot(string? trackingUri)
    {
        if (string.IsNullOrWhiteSpace(trackingUri))
        {
            var dir = Environment.GetEnvironmentVariable(MlflowEnvironmentVariables.TrackingDir);
            return Path.GetFullPath(string.IsNullOrWhiteSpace(dir) ? "mlruns" : dir);
        }

        var uri = trackingUri.Trim();
        if (uri.Equals("databricks", StringComparison.OrdinalIgnoreCase) || uri.Equals("databricks-uc", StringComparison.OrdinalIgnoreCase))
        {
            throw new ArgumentException($"The tracking URI '{uri}' names Databricks, not a local folder.", nameof(trackingUri));
        }

        var colon = uri.IndexOf(':', StringComparison.Ordinal);
        if (colon > 1 && IsScheme(uri.AsSpan(0, colon)))
        {
            var scheme = uri[..colon];
            if (!scheme.Equals("file", StringComparison.OrdinalIgnoreCase))
            {
                throw new ArgumentException(
                    $"The tracking URI scheme '{scheme}:' is not a local folder; the local file store takes a path, 'file:///abs/path' or 'file:relative/path' (servers need the REST store).",
                    nameof(trackingUri));
            }

            var path = FileStorePaths.FromFileUri("file" + uri[colon..]);
            if (path.Length == 0)
            {
                throw new ArgumentException($"The file URI '{trackingUri}' names no folder.", nameof(trackingUri));
            }

            return Path.TrimEndingDirectorySeparator(Path.GetFullPath(path));
        }

        return Path.TrimEndingDirectorySeparator(Path.GetFullPath(uri));
    }

    private static bool IsScheme(ReadOnlySpan<char> s)
    {
        if (!char.IsAsciiLetter(s[0]))
        {
            return false;
        }

        foreach (var c in s)
        {
            if (!(char.IsAsciiLetterOrDigit(c) || c is '+' or '-' or '.'))
            {
                return false;
            }
        }

        return true;
    }

    private static long Now() => DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();

    /// <summary>Closes the open metric files under the root when no other instance in the process is open on it.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            RunWriters.ReleaseStore(_root);
        }
    }
}
