using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Security.Cryptography;
using System.Text;
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
/// <para>Metric appends keep one file handle per (run, key) open in a process-wide bounded cache, write a batch's
/// lines of one key in one system call and are visible to other readers when the call returns (no fsync per call:
/// <see cref="FlushToDisk"/> does that, also for the param, tag and <c>meta.yaml</c> files written since the previous
/// call when <see cref="TrackFilesForFlushToDisk"/> is set).</para>
/// <para>Concurrency: calls on one run are serialized in the process (also across instances on the same folder);
/// processes may log to different runs of one store; experiment creation takes an exclusive lock file in the root, so
/// two creators of one name end with one experiment. Two processes appending to the same metric of the same run at
/// the same time are not supported (.NET does not open files with O_APPEND).</para>
/// <para>Torn last line (a writer killed mid-line): readers skip it and report it (<see cref="TornLinesSkipped"/>,
/// <see cref="TornLineObserved"/>, a log warning); the next append to that file first cuts the partial line, so the
/// file is again valid for MLflow's own reader (which would otherwise fail on it).</para>
/// </remarks>
internal sealed partial class LocalFileStore : ITrackingStore
{
    internal const string TrashFolderName = ".trash";
    internal const string MetaFileName = "meta.yaml";
    internal const string DefaultExperimentId = "0";
    internal const string LockFileName = ".mlflow-dotnet.lock";
    private const string RunNameTag = "mlflow.runName";
    private const int SourceTypeLocal = 4;

    private static readonly string[] ReservedExperimentFolders = ["tags", "datasets", "traces", "models"];
    private static readonly TimeSpan LockTimeout = TimeSpan.FromSeconds(30);

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
    }

    /// <summary>The store's root folder (absolute).</summary>
    public string RootDirectory => _root;

    /// <inheritdoc />
    public string Description => "local store " + _root;

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

    // ------------------------------------------------------------------ experiments

    public Task<Experiment> GetExperimentAsync(string experimentId, CancellationToken cancellationToken)
    {
        MlflowValidation.ValidateExperimentId(experimentId);
        var exp = ReadExperiment(experimentId, ViewType.All)
            ?? throw StoreError(MlflowErrorCode.ResourceDoesNotExist, $"Could not find experiment with ID {experimentId}");
        return Task.FromResult(exp);
    }

    public Task<Experiment?> GetExperimentByNameAsync(string name, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(name);
        Experiment? deleted = null;
        foreach (var exp in ListExperiments(ViewType.All))
        {
            if (string.Equals(exp.Name, name, StringComparison.Ordinal))
            {
                if (exp.LifecycleStage == LifecycleStage.Active)
                {
                    return Task.FromResult<Experiment?>(exp);
                }

                deleted ??= exp;
            }
        }

        return Task.FromResult(deleted);
    }

    public Task<string> CreateExperimentAsync(string name, string? artifactLocation, IReadOnlyList<Tag>? tags, CancellationToken cancellationToken)
    {
        MlflowValidation.ValidateExperimentName(name);
        var checkedTags = CheckExperimentTags(tags);
        using var gate = AcquireRootLock(cancellationToken);
        foreach (var exp in ListExperiments(ViewType.All))
        {
            if (string.Equals(exp.Name, name, StringComparison.Ordinal))
            {
                throw StoreError(MlflowErrorCode.ResourceAlreadyExists, exp.LifecycleStage == LifecycleStage.Deleted
                    ? $"Experiment '{name}' already exists in deleted state. Restore it, or remove it from the .trash folder of the store to reuse the name."
                    : $"Experiment '{name}' already exists.");
            }
        }

        string id;
        var attempts = 0;
        do
        {
            if (++attempts > 20)
            {
                throw StoreError(MlflowErrorCode.InternalError, "Could not find a free experiment id after 20 attempts.");
            }

            id = NewExperimentId();
        }
        while (Directory.Exists(Path.Combine(_root, id)) || Directory.Exists(Path.Combine(_trash, id)));

        CreateExperimentWithId(id, name, artifactLocation, checkedTags);
        return Task.FromResult(id);
    }

    public Task<Page<Experiment>> SearchExperimentsAsync(ExperimentSearchOptions options, string? pageToken, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(options);
        CheckMaxResults(options.MaxResults);
        var all = ListExperiments(options.ViewType ?? ViewType.ActiveOnly);
        var filtered = FileStoreSearch.FilterExperiments(all, options.Filter);
        var sorted = FileStoreSearch.SortExperiments(filtered, options.OrderBy);
        return Task.FromResult(FileStoreSearch.Paginate(sorted, pageToken, options.MaxResults));
    }

    public Task DeleteExperimentAsync(string experimentId, CancellationToken cancellationToken)
    {
        MlflowValidation.ValidateExperimentId(experimentId);
        if (experimentId == DefaultExperimentId)
        {
            throw StoreError(MlflowErrorCode.InvalidParameterValue, "Cannot delete the default experiment '0'. This is an internally reserved experiment.");
        }

        using var gate = AcquireRootLock(cancellationToken);
        var dir = Path.Combine(_root, experimentId);
        var exp = ReadExperiment(experimentId, ViewType.ActiveOnly)
            ?? throw StoreError(MlflowErrorCode.ResourceDoesNotExist, $"Could not find experiment with ID {experimentId}");
        if (Directory.Exists(Path.Combine(_trash, experimentId)))
        {
            throw StoreError(MlflowErrorCode.ResourceAlreadyExists, $"A deleted experiment with ID {experimentId} is already in the .trash folder.");
        }

        var now = Now();
        foreach (var runDir in ListRunDirs(dir))
        {
            UpdateRunMeta(runDir, m => m.LifecycleStage == "active" ? m with { LifecycleStage = "deleted", DeletedTime = now } : null);
        }

        WriteExperimentMeta(dir, exp with { LifecycleStage = LifecycleStage.Deleted, LastUpdateTime = now }, includeTags: true);
        RunWriters.CloseUnder(dir);
        Directory.Move(dir, Path.Combine(_trash, experimentId));
        return Task.CompletedTask;
    }

    public Task RestoreExperimentAsync(string experimentId, CancellationToken cancellationToken)
    {
        MlflowValidation.ValidateExperimentId(experimentId);
        using var gate = AcquireRootLock(cancellationToken);
        var trashDir = Path.Combine(_trash, experimentId);
        if (ReadExperiment(experimentId, ViewType.DeletedOnly) is null)
        {
            throw StoreError(MlflowErrorCode.ResourceDoesNotExist, $"Could not find deleted experiment with ID {experimentId}");
        }

        var dir = Path.Combine(_root, experimentId);
        if (Directory.Exists(dir))
        {
            throw StoreError(MlflowErrorCode.ResourceAlreadyExists, $"Cannot restore experiment with ID {experimentId}. An experiment with same ID already exists.");
        }

        RunWriters.CloseUnder(trashDir);
        Directory.Move(trashDir, dir);
        var exp = ReadExperiment(experimentId, ViewType.ActiveOnly)!;
        foreach (var runDir in ListRunDirs(dir))
        {
            UpdateRunMeta(runDir, m => m.LifecycleStage == "deleted" ? m with { LifecycleStage = "active", DeletedTime = null } : null);
        }

        WriteExperimentMeta(dir, exp with { LifecycleStage = LifecycleStage.Active, LastUpdateTime = Now() }, includeTags: true);
        return Task.CompletedTask;
    }

    public Task SetExperimentTagAsync(string experimentId, string key, string value, CancellationToken cancellationToken)
    {
        MlflowValidation.ValidateExperimentId(experimentId);
        var tag = CheckExperimentTags([new Tag(key, value)])[0];
        var exp = ReadExperiment(experimentId, ViewType.All)
            ?? throw StoreError(MlflowErrorCode.ResourceDoesNotExist, $"Could not find experiment with ID {experimentId}");
        if (exp.LifecycleStage != LifecycleStage.Active)
        {
            throw StoreError(MlflowErrorCode.InvalidParameterValue, $"The experiment {experimentId} must be in the 'active' lifecycle_stage to set tags");
        }

        var dir = Path.Combine(_root, experimentId);
        WriteTextAtomically(dir, FileStorePaths.Combine(_root, Path.Combine(dir, "tags"), tag.Key, "tag key"), tag.Value);
        return Task.CompletedTask;
    }

    private static List<Tag> CheckExperimentTags(IReadOnlyList<Tag>? tags)
    {
        var result = new List<Tag>(tags?.Count ?? 0);
        foreach (var t in tags ?? [])
        {
            FileStorePaths.ValidateKey(t.Key, "tag key");
            var v = MlflowValidation.CheckValue(t.Value, MlflowLimits.MaxExperimentTagValueLength, truncate: false, t.Key, "experiment tag", out _);
            result.Add(new Tag(t.Key, v));
        }

        return result;
    }

    private void CreateDefaultExperiment()
    {
        if (!File.Exists(Path.Combine(_root, DefaultExperimentId, MetaFileName)))
        {
            CreateExperimentWithId(DefaultExperimentId, "Default", null, []);
        }
    }

    private void CreateExperimentWithId(string id, string name, string? artifactLocation, List<Tag> tags)
    {
        var dir = Path.Combine(_root, id);
        Directory.CreateDirectory(dir);
        var now = Now();
        var exp = new Experiment
        {
            ExperimentId = id,
            Name = name,
            ArtifactLocation = ResolveArtifactLocation(artifactLocation, id),
            LifecycleStage = LifecycleStage.Active,
            CreationTime = now,
            LastUpdateTime = now,
        };
        WriteExperimentMeta(dir, exp, includeTags: false);
        foreach (var tag in tags)
        {
            WriteTextAtomically(dir, FileStorePaths.Combine(_root, Path.Combine(dir, "tags"), tag.Key, "tag key"), tag.Value);
        }
    }

    private string ResolveArtifactLocation(string? artifactLocation, string id)
    {
        if (string.IsNullOrWhiteSpace(artifactLocation))
        {
            return _rootUri + "/" + id;
        }

        var colon = artifactLocation.IndexOf(':', StringComparison.Ordinal);
        if (colon > 1 && IsScheme(artifactLocation.AsSpan(0, colon)))
        {
            return artifactLocation; // a URI (file:, s3:, mlflow-artifacts:...) is kept as given
        }

        return FileStorePaths.ToFileUri(Path.GetFullPath(artifactLocation));
    }

    private static string NewExperimentId()
    {
        Span<char> digits = stackalloc char[18];
        digits[0] = (char)('1' + RandomNumberGenerator.GetInt32(9));
        for (var i = 1; i < digits.Length; i++)
        {
            digits[i] = (char)('0' + RandomNumberGenerator.GetInt32(10));
        }

        return new string(digits);
    }

    private void WriteExperimentMeta(string dir, Experiment exp, bool includeTags)
    {
        var entries = new List<KeyValuePair<string, object?>>
        {
            new("artifact_location", exp.ArtifactLocation),
            new("creation_time", exp.CreationTime),
            new("experiment_id", exp.ExperimentId),
            new("last_update_time", exp.LastUpdateTime),
            new("lifecycle_stage", exp.LifecycleStage == LifecycleStage.Deleted ? "deleted" : "active"),
            new("name", exp.Name),
        };
        if (includeTags)
        {
            entries.Add(new("tags", new MiniYaml.Mapping(exp.Tags.Select(t => new KeyValuePair<string, string>(t.Key, t.Value)).ToList())));
        }

        WriteTextAtomically(dir, Path.Combine(dir, MetaFileName), MiniYaml.Write(entries));
    }

    /// <summary>Reads one experiment from its folder (active in the root, deleted in .trash); null when absent or malformed.</summary>
    private Experiment? ReadExperiment(string experimentId, ViewType view)
    {
        if (view is ViewType.ActiveOnly or ViewType.All)
        {
            var exp = ReadExperimentDir(Path.Combine(_root, experimentId), experimentId);
            if (exp is not null)
            {
                return exp;
            }
        }

        if (view is ViewType.DeletedOnly or ViewType.All)
        {
            return ReadExperimentDir(Path.Combine(_trash, experimentId), experimentId);
        }

        return null;
    }

    private Experiment? ReadExperimentDir(string dir, string expectedId)
    {
        var metaPath = Path.Combine(dir, MetaFileName);
        if (!File.Exists(metaPath))
        {
            return null;
        }

        Dictionary<string, object?> meta;
        try
        {
            meta = ReadYamlWithRetry(metaPath);
        }
        catch (Exception ex) when (ex is FormatException or IOException)
        {
            FileStoreLog.SkippedEntity(_logger, metaPath, "malformed experiment meta.yaml", ex);
            return null;
        }

        var id = AsString(meta.GetValueOrDefault("experiment_id"));
        if (id != expectedId)
        {
            FileStoreLog.SkippedEntity(_logger, metaPath, $"experiment_id '{id}' does not match its folder", null);
            return null;
        }

        return new Experiment
        {
            ExperimentId = id,
            Name = AsString(meta.GetValueOrDefault("name")) ?? "",
            ArtifactLocation = AsString(meta.GetValueOrDefault("artifact_location")),
            LifecycleStage = AsString(meta.GetValueOrDefault("lifecycle_stage")) == "deleted" ? LifecycleStage.Deleted : LifecycleStage.Active,
            CreationTime = AsLong(meta.GetValueOrDefault("creation_time")),
            LastUpdateTime = AsLong(meta.GetValueOrDefault("last_update_time")),
            Tags = ReadKeyValueFiles(Path.Combine(dir, "tags")).Select(kv => new Tag(kv.Key, kv.Value)).ToList(),
        };
    }

    private List<Experiment> ListExperiments(ViewType view)
    {
        var result = new List<Experiment>();
        if (view is ViewType.ActiveOnly or ViewType.All)
        {
            foreach (var dir in SafeEnumerateDirectories(_root))
            {
                var name = Path.GetFileName(dir);
                if (name is TrashFolderName or "models" || name.StartsWith('.'))
                {
                    continue;
                }

                if (ReadExperimentDir(dir, name) is { } exp)
                {
                    result.Add(exp);
                }
            }
        }

        if (view is ViewType.DeletedOnly or ViewType.All)
        {
            foreach (var dir in SafeEnumerateDirectories(_trash))
            {
                if (ReadExperimentDir(dir, Path.GetFileName(dir)) is { } exp)
                {
                    result.Add(exp);
                }
            }
        }

        return result;
    }

    private FileStream AcquireRootLock(CancellationToken cancellationToken)
    {
        var path = Path.Combine(_root, LockFileName);
        var clock = Stopwatch.StartNew();
        for (var attempt = 0; ; attempt++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            try
            {
                return new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None, 1, FileOptions.None);
            }
            catch (IOException) when (clock.Elapsed < LockTimeout)
            {
                Thread.Sleep(Math.Min(5 + attempt, 50));
            }
            catch (IOException ex)
            {
                throw new MlflowException($"Could not lock the local store '{_root}' within {LockTimeout.TotalSeconds:0} s ({path} is held by another writer).", ex);
            }
        }
    }

    // ------------------------------------------------------------------ runs

    public Task<Run> CreateRunAsync(string experimentId, string? runName, long startTime, IReadOnlyList<Tag>? tags, string? userId, CancellationToken cancellationToken)
        => Task.FromResult(CreateRunCore(experimentId, runName, startTime, tags, userId, null));

    /// <summary>
    /// Creates a run with a run id chosen by the caller (32 lowercase hex digits), or returns it when a run with that id
    /// already exists in the experiment (a repeated creation). The offline fallback names its local runs this way.
    /// </summary>
    internal Run CreateRunWithId(string runId, string experimentId, string? runName, long startTime, IReadOnlyList<Tag>? tags, string? userId)
    {
        if (runId.Length != 32 || !runId.All(c => c is >= '0' and <= '9' or >= 'a' and <= 'f'))
        {
            throw new ArgumentException($"A local run id is 32 lowercase hex digits; '{runId}' is not.", nameof(runId));
        }

        return CreateRunCore(experimentId, runName, startTime, tags, userId, runId);
    }

    private Run CreateRunCore(string experimentId, string? runName, long startTime, IReadOnlyList<Tag>? tags, string? userId, string? givenRunId)
    {
        MlflowValidation.ValidateExperimentId(experimentId);
        var checkedTags = CheckRunTags(tags ?? []);
        var exp = ReadExperiment(experimentId, ViewType.All)
            ?? throw StoreError(MlflowErrorCode.ResourceDoesNotExist, $"Could not create run under experiment with ID {experimentId} - no such experiment exists.");
        if (exp.LifecycleStage != LifecycleStage.Active)
        {
            throw StoreError(MlflowErrorCode.InvalidState, $"Could not create run under non-active experiment with ID {experimentId}.");
        }

        var nameTag = checkedTags.LastOrDefault(t => t.Key == RunNameTag)?.Value;
        if (!string.IsNullOrEmpty(runName) && !string.IsNullOrEmpty(nameTag) && runName != nameTag)
        {
            throw StoreError(MlflowErrorCode.InvalidParameterValue,
                $"Both 'run_name' argument and 'mlflow.runName' tag are specified, but with different values (run_name='{runName}', mlflow.runName='{nameTag}').");
        }

        var name = !string.IsNullOrEmpty(runName) ? runName : !string.IsNullOrEmpty(nameTag) ? nameTag : RunNameGenerator.Next();
        if (string.IsNullOrEmpty(nameTag))
        {
            checkedTags.RemoveAll(t => t.Key == RunNameTag);
            checkedTags.Add(new Tag(RunNameTag, name));
        }

        var runId = givenRunId ?? Guid.NewGuid().ToString("N");
        var expDir = Path.Combine(_root, experimentId);
        var runDir = Path.Combine(expDir, runId);
        if (givenRunId is not null && File.Exists(Path.Combine(runDir, MetaFileName)))
        {
            _runDirs[runId] = runDir;
            return BuildRun(runDir, ReadRunMeta(runDir) ?? throw InvalidRunState(runId));
        }

        Directory.CreateDirectory(runDir);
        var meta = new RunMeta
        {
            RunId = runId,
            ExperimentId = experimentId,
            RunName = name,
            UserId = userId,
            Status = (int)RunStatus.Running,
            StartTime = startTime,
            EndTime = null,
            LifecycleStage = "active",
            ArtifactUri = AppendToUri(exp.ArtifactLocation ?? _rootUri + "/" + experimentId, runId, "artifacts"),
        };
        WriteTextAtomically(runDir, Path.Combine(runDir, MetaFileName), meta.ToYaml(includeNullDeletedTime: true));
        Directory.CreateDirectory(Path.Combine(runDir, "metrics"));
        Directory.CreateDirectory(Path.Combine(runDir, "params"));
        Directory.CreateDirectory(Path.Combine(runDir, "artifacts"));
        Directory.CreateDirectory(Path.Combine(runDir, "tags"));
        foreach (var tag in checkedTags)
        {
            WriteTextAtomically(runDir, FileStorePaths.Combine(_root, Path.Combine(runDir, "tags"), tag.Key, "tag key"), tag.Value);
        }

        _runDirs[runId] = runDir;
        return BuildRun(runDir, meta);
    }

    private static string AppendToUri(string baseUri, params string[] segments)
    {
        var sb = new StringBuilder(baseUri.TrimEnd('/'));
        foreach (var s in segments)
        {
            sb.Append('/').Append(s);
        }

        return sb.ToString();
    }

    public Task<RunInfo> UpdateRunAsync(string runId, RunStatus? status, long? endTime, string? runName, CancellationToken cancellationToken)
    {
        MlflowValidation.ValidateRunId(runId);
        var runDir = LocateRun(runId);
        var info = RunWriters.WithWriter(runDir, w =>
        {
            var meta = EnsureActive(w, runId);
            var updated = meta with
            {
                Status = status is { } s ? (int)s : meta.Status,
                EndTime = endTime ?? meta.EndTime,
                RunName = string.IsNullOrEmpty(runName) ? meta.RunName : runName,
                DeletedTime = null,
            };
            if (!string.IsNullOrEmpty(runName))
            {
                WriteTextAtomically(runDir, FileStorePaths.Combine(_root, Path.Combine(runDir, "tags"), RunNameTag, "tag key"), runName);
            }

            WriteRunMeta(w, updated);
            return updated.ToRunInfo();
        });
        return Task.FromResult(info);
    }

    public Task DeleteRunAsync(string runId, CancellationToken cancellationToken)
    {
        MlflowValidation.ValidateRunId(runId);
        var runDir = LocateRun(runId);
        RunWriters.WithWriter(runDir, w =>
        {
            var meta = ReadRunMetaCached(w) ?? throw InvalidRunState(runId);
            WriteRunMeta(w, meta with { LifecycleStage = "deleted", DeletedTime = Now() });
            return 0;
        });
        return Task.CompletedTask;
    }

    public Task RestoreRunAsync(string runId, CancellationToken cancellationToken)
    {
        MlflowValidation.ValidateRunId(runId);
        var runDir = LocateRun(runId);
        RunWriters.WithWriter(runDir, w =>
        {
            var meta = ReadRunMetaCached(w) ?? throw InvalidRunState(runId);
            WriteRunMeta(w, meta with { LifecycleStage = "active", DeletedTime = null });
            return 0;
        });
        return Task.CompletedTask;
    }

    public Task<Run> GetRunAsync(string runId, CancellationToken cancellationToken)
    {
        MlflowValidation.ValidateRunId(runId);
        var runDir = LocateRun(runId);
        var meta = ReadRunMeta(runDir) ?? throw InvalidRunState(runId);
        return Task.FromResult(BuildRun(runDir, meta));
    }

    public Task<Page<Run>> SearchRunsAsync(RunSearchOptions options, string? pageToken, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(options);
        CheckMaxResults(options.MaxResults);
        var filter = FileStoreSearch.ParseRunFilter(options.Filter);
        var view = options.ViewType ?? ViewType.ActiveOnly;
        var runs = new List<Run>();
        foreach (var experimentId in options.ExperimentIds)
        {
            MlflowValidation.ValidateExperimentId(experimentId);
            var expDir = Directory.Exists(Path.Combine(_root, experimentId)) ? Path.Combine(_root, experimentId) : Path.Combine(_trash, experimentId);
            foreach (var runDir in ListRunDirs(expDir))
            {
                cancellationToken.ThrowIfCancellationRequested();
                var meta = ReadRunMeta(runDir);
                if (meta is null || meta.ExperimentId != experimentId || meta.RunId != Path.GetFileName(runDir))
                {
                    continue;
                }

                var deleted = meta.LifecycleStage == "deleted";
                if ((view == ViewType.ActiveOnly && deleted) || (view == ViewType.DeletedOnly && !deleted))
                {
                    continue;
                }

                var run = BuildRun(runDir, meta);
                if (FileStoreSearch.Matches(run, filter))
                {
                    runs.Add(run);
                }
            }
        }

        var sorted = FileStoreSearch.SortRuns(runs, options.OrderBy);
        return Task.FromResult(FileStoreSearch.Paginate(sorted, pageToken, options.MaxResults));
    }

    private static void CheckMaxResults(int maxResults)
    {
        if (maxResults is < 1 or > 50_000)
        {
            throw StoreError(MlflowErrorCode.InvalidParameterValue, $"Invalid value for max_results. It must be between 1 and 50000, but got {maxResults}");
        }
    }

    private static IEnumerable<string> ListRunDirs(string experimentDir)
    {
        foreach (var dir in SafeEnumerateDirectories(experimentDir))
        {
            var name = Path.GetFileName(dir);
            if (Array.IndexOf(ReservedExperimentFolders, name) < 0 && File.Exists(Path.Combine(dir, MetaFileName)))
            {
                yield return dir;
            }
        }
    }

    private static string[] SafeEnumerateDirectories(string dir)
    {
        try
        {
            return Directory.GetDirectories(dir);
        }
        catch (DirectoryNotFoundException)
        {
            return [];
        }
    }

    /// <summary>The run's folder; cached, re-found by scanning every experiment (active and deleted) when it moved.</summary>
    private string LocateRun(string runId)
    {
        if (_runDirs.TryGetValue(runId, out var cached) && File.Exists(Path.Combine(cached, MetaFileName)))
        {
            return cached;
        }

        var candidates = SafeEnumerateDirectories(_root)
            .Where(d => Path.GetFileName(d) is not (TrashFolderName or "models"))
            .Concat(SafeEnumerateDirectories(_trash));
        foreach (var expDir in candidates)
        {
            var runDir = Path.Combine(expDir, runId);
            if (File.Exists(Path.Combine(runDir, MetaFileName)))
            {
                _runDirs[runId] = runDir;
                return runDir;
            }
        }

        throw StoreError(MlflowErrorCode.ResourceDoesNotExist, $"Run '{runId}' not found");
    }

    /// <summary>The folder of a run (active or in a deleted experiment), for readers such as sync that need its files.</summary>
    /// <exception cref="MlflowException">With <see cref="MlflowErrorCode.ResourceDoesNotExist"/> when no such run exists.</exception>
    internal string GetRunDirectory(string runId)
    {
        MlflowValidation.ValidateRunId(runId);
        return LocateRun(runId);
    }

    private static MlflowException InvalidRunState(string runId)
        => StoreError(MlflowErrorCode.InvalidState, $"Run '{runId}' metadata is in invalid state.");

    private RunMeta EnsureActive(RunWriters.Writer w, string runId)
    {
        var meta = ReadRunMetaCached(w) ?? throw InvalidRunState(runId);
        if (meta.LifecycleStage != "active")
        {
            throw StoreError(MlflowErrorCode.InvalidParameterValue, $"The run {runId} must be in the 'active' state. Current state is {meta.LifecycleStage}.");
        }

        return meta;
    }

    private RunMeta? ReadRunMetaCached(RunWriters.Writer w)
    {
        var path = Path.Combine(w.RunDir, MetaFileName);
        var fi = new FileInfo(path);
        if (!fi.Exists)
        {
            w.Meta = null;
            return null;
        }

        if (w.Meta is not null && w.MetaStamp == fi.LastWriteTimeUtc && w.MetaLength == fi.Length)
        {
            return w.Meta;
        }

        w.Meta = ReadRunMeta(w.RunDir);
        w.MetaStamp = fi.LastWriteTimeUtc;
        w.MetaLength = fi.Length;
        return w.Meta;
    }

    private void WriteRunMeta(RunWriters.Writer w, RunMeta meta)
    {
        var path = Path.Combine(w.RunDir, MetaFileName);
        WriteTextAtomically(w.RunDir, path, meta.ToYaml(includeNullDeletedTime: false));
        var fi = new FileInfo(path);
        w.Meta = meta;
        w.MetaStamp = fi.LastWriteTimeUtc;
        w.MetaLength = fi.Length;
    }

    private void UpdateRunMeta(string runDir, Func<RunMeta, RunMeta?> change)
    {
        RunWriters.WithWriter(runDir, w =>
        {
            if (ReadRunMetaCached(w) is { } meta && change(meta) is { } updated)
            {
                WriteRunMeta(w, updated);
            }

            return 0;
        });
    }

    private RunMeta? ReadRunMeta(string runDir)
    {
        var path = Path.Combine(runDir, MetaFileName);
        try
        {
            return RunMeta.FromYaml(ReadYamlWithRetry(path));
        }
        catch (Exception ex) when (ex is FormatException or IOException or InvalidCastException)
        {
            FileStoreLog.SkippedEntity(_logger, path, "malformed run meta.yaml", ex);
            return null;
        }
    }

    private Run BuildRun(string runDir, RunMeta meta)
    {
        var tags = ReadKeyValueFiles(Path.Combine(runDir, "tags")).Select(kv => new Tag(kv.Key, kv.Value)).ToList();
        var info = meta.ToRunInfo();
        if (string.IsNullOrEmpty(info.RunName) && tags.FirstOrDefault(t => t.Key == RunNameTag) is { } nameTag)
        {
            info = info with { RunName = nameTag.Value };
        }

        return new Run
        {
            Info = info,
            Data = new RunData
            {
                Metrics = ReadLatestMetrics(runDir),
                Params = ReadKeyValueFiles(Path.Combine(runDir, "params")).Select(kv => new Param(kv.Key, kv.Value)).ToList(),
                Tags = tags,
            },
            Inputs = ReadInputs(runDir),
        };
    }

    // ------------------------------------------------------------------ params and tags

    public Task DeleteTagAsync(string runId, string key, CancellationToken cancellationToken)
    {
        MlflowValidation.ValidateRunId(runId);
        FileStorePaths.ValidateKey(key, "tag key");
        var runDir = LocateRun(runId);
        RunWriters.WithWriter(runDir, w =>
        {
            EnsureActive(w, runId);
            var path = FileStorePaths.Combine(_root, Path.Combine(runDir, "tags"), key, "tag key");
            if (!File.Exists(path))
            {
                throw StoreError(MlflowErrorCode.ResourceDoesNotExist, $"No tag with name: {key} in run with id {runId}");
            }

            File.Delete(path);
            return 0;
        });
        return Task.CompletedTask;
    }

    private List<Tag> CheckRunTags(IReadOnlyList<Tag> tags)
    {
        var result = new List<Tag>(tags.Count);
        foreach (var t in tags)
        {
            ArgumentNullException.ThrowIfNull(t);
            FileStorePaths.ValidateKey(t.Key, "tag key");
            result.Add(new Tag(t.Key, CheckValue(t.Value, MlflowLimits.MaxTagValueLength, t.Key, "tag")));
        }

        return result;
    }

    private string CheckValue(string? value, int max, string key, string kind)
    {
        var v = MlflowValidation.CheckValue(value, max, truncate: !RefuseLongValues, key, kind, out var truncated);
        if (truncated && _truncationWarned.TryAdd(kind + "\0" + key, 0))
        {
            FileStoreLog.Truncated(_logger, kind, key, max);
        }

        return v;
    }

    /// <summary>Reads every file under a folder (recursively) as key ('/'-joined relative path) → UTF-8 text, sorted by key.</summary>
    private static List<KeyValuePair<string, string>> ReadKeyValueFiles(string folder)
    {
        var result = new List<KeyValuePair<string, string>>();
        if (!Directory.Exists(folder))
        {
            return result;
        }

        foreach (var file in Directory.EnumerateFiles(folder, "*", SearchOption.AllDirectories))
        {
            var key = Path.GetRelativePath(folder, file).Replace(Path.DirectorySeparatorChar, '/');
            if (!MlflowValidation.IsValidKey(key, out _))
            {
                continue; // not a key this store or MLflow writes (editor backups, temp files)
            }

            try
            {
                result.Add(new(key, ReadUtf8(file)));
            }
            catch (FileNotFoundException)
            {
                // deleted while listing
            }
        }

        result.Sort((a, b) => string.CompareOrdinal(a.Key, b.Key));
        return result;
    }

    private static string ReadUtf8(string path)
    {
        using var fs = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, 1);
        var length = fs.Length;
        if (length == 0)
        {
            return "";
        }

        var bytes = new byte[length];
        fs.ReadExactly(bytes);
        return Encoding.UTF8.GetString(bytes);
    }

    // ------------------------------------------------------------------ inputs

    public Task LogInputsAsync(string runId, IReadOnlyList<DatasetInput> datasets, CancellationToken cancellationToken)
    {
        MlflowValidation.ValidateRunId(runId);
        ArgumentNullException.ThrowIfNull(datasets);
        var runDir = LocateRun(runId);
        RunWriters.WithWriter(runDir, w =>
        {
            EnsureActive(w, runId);
            var expDir = Path.GetDirectoryName(runDir)!;
            foreach (var input in datasets)
            {
                var ds = input.Dataset;
                var datasetId = Md5Hex(ds.Name, ds.Digest);
                var datasetDir = Path.Combine(expDir, "datasets", datasetId);
                if (!File.Exists(Path.Combine(datasetDir, MetaFileName)))
                {
                    Directory.CreateDirectory(datasetDir);
                    WriteTextAtomically(expDir, Path.Combine(datasetDir, MetaFileName), MiniYaml.Write(
                    [
                        new("digest", ds.Digest), new("name", ds.Name), new("profile", ds.Profile), new("schema", ds.Schema),
                        new("source", ds.Source), new("source_type", ds.SourceType),
                    ]));
                }

                var inputId = Md5Hex(datasetId, runId);
                var inputDir = Path.Combine(runDir, "inputs", inputId);
                if (!File.Exists(Path.Combine(inputDir, MetaFileName)))
                {
                    Directory.CreateDirectory(inputDir);
                    var tags = input.Tags.GroupBy(t => t.Key, StringComparer.Ordinal).Select(g => new KeyValuePair<string, string>(g.Key, g.Last().Value)).ToList();
                    // MLflow 2.x writes the dataset id as destination_id too; kept for identical files.
                    WriteTextAtomically(runDir, Path.Combine(inputDir, MetaFileName), MiniYaml.Write(
                    [
                        new("destination_id", datasetId), new("destination_type", "RUN"), new("source_id", datasetId),
                        new("source_type", "DATASET"), new("tags", new MiniYaml.Mapping(tags)),
                    ]));
                }
            }

            return 0;
        });
        return Task.CompletedTask;
    }

    private static string Md5Hex(string a, string b)
    {
#pragma warning disable CA5351 // MLflow's file layout names datasets by MD5; not a security use
        return Convert.ToHexString(MD5.HashData(Encoding.UTF8.GetBytes(a + b))).ToLowerInvariant();
#pragma warning restore CA5351
    }

    private RunInputs ReadInputs(string runDir)
    {
        var inputsDir = Path.Combine(runDir, "inputs");
        var datasetsDir = Path.Combine(Path.GetDirectoryName(runDir)!, "datasets");
        if (!Directory.Exists(inputsDir) || !Directory.Exists(datasetsDir))
        {
            return new RunInputs();
        }

        var result = new List<DatasetInput>();
        foreach (var inputDir in SafeEnumerateDirectories(inputsDir).Order(StringComparer.Ordinal))
        {
            try
            {
                var input = ReadYamlWithRetry(Path.Combine(inputDir, MetaFileName));
                if (AsString(input.GetValueOrDefault("source_type")) != "DATASET" || AsString(input.GetValueOrDefault("source_id")) is not { } sourceId)
                {
                    continue;
                }

                var dsPath = Path.Combine(datasetsDir, sourceId, MetaFileName);
                if (!File.Exists(dsPath))
                {
                    continue;
                }

                var ds = ReadYamlWithRetry(dsPath);
                var tags = input.GetValueOrDefault("tags") is MiniYaml.Mapping m ? m.Entries.Select(kv => new Tag(kv.Key, kv.Value)).ToList() : [];
                result.Add(new DatasetInput
                {
                    Tags = tags,
                    Dataset = new Dataset
                    {
                        Name = AsString(ds.GetValueOrDefault("name")) ?? "",
                        Digest = AsString(ds.GetValueOrDefault("digest")) ?? "",
                        SourceType = AsString(ds.GetValueOrDefault("source_type")) ?? "",
                        Source = AsString(ds.GetValueOrDefault("source")) ?? "",
                        Schema = AsString(ds.GetValueOrDefault("schema")),
                        Profile = AsString(ds.GetValueOrDefault("profile")),
                    },
                });
            }
            catch (Exception ex) when (ex is FormatException or IOException)
            {
                FileStoreLog.SkippedEntity(_logger, inputDir, "malformed run input", ex);
            }
        }

        return new RunInputs { DatasetInputs = result };
    }

    // ------------------------------------------------------------------ artifacts

    public async Task LogArtifactAsync(string runId, string artifactPath, Stream content, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(content);
        MlflowValidation.ValidateRunId(runId);
        FileStorePaths.ValidateArtifactPath(artifactPath);
        var artifactRoot = LocalArtifactRoot(runId);
        var target = FileStorePaths.Combine(_root, artifactRoot, artifactPath, "artifact path");
        Directory.CreateDirectory(Path.GetDirectoryName(target)!);
        var temp = Path.Combine(Path.GetDirectoryName(target)!, ".tmp-" + Guid.NewGuid().ToString("N"));
        try
        {
            await using (var fs = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 81920, FileOptions.Asynchronous))
            {
                await content.CopyToAsync(fs, cancellationToken).ConfigureAwait(false);
            }

            File.Move(temp, target, overwrite: true);
        }
        finally
        {
            if (File.Exists(temp))
            {
                File.Delete(temp);
            }
        }
    }

    public Task<IReadOnlyList<ArtifactFileInfo>> ListArtifactsAsync(string runId, string? path, CancellationToken cancellationToken)
    {
        MlflowValidation.ValidateRunId(runId);
        var artifactRoot = LocalArtifactRoot(runId);
        var folder = artifactRoot;
        var prefix = "";
        if (!string.IsNullOrEmpty(path))
        {
            FileStorePaths.ValidateArtifactPath(path);
            folder = FileStorePaths.Combine(_root, artifactRoot, path, "artifact path");
            prefix = path + "/";
        }

        var result = new List<ArtifactFileInfo>();
        if (Directory.Exists(folder))
        {
            foreach (var entry in new DirectoryInfo(folder).EnumerateFileSystemInfos())
            {
                if (entry.Name.StartsWith(".tmp-", StringComparison.Ordinal))
                {
                    continue;
                }

                result.Add(entry is FileInfo fi
                    ? new ArtifactFileInfo(prefix + fi.Name, false, fi.Length)
                    : new ArtifactFileInfo(prefix + entry.Name, true));
            }
        }

        result.Sort((a, b) => string.CompareOrdinal(a.Path, b.Path));
        return Task.FromResult<IReadOnlyList<ArtifactFileInfo>>(result);
    }

    /// <summary>The run's local artifact folder; it must be under the store's root (the default layout).</summary>
    private string LocalArtifactRoot(string runId)
    {
        var runDir = LocateRun(runId);
        var meta = ReadRunMeta(runDir) ?? throw InvalidRunState(runId);
        var uri = meta.ArtifactUri;
        if (string.IsNullOrEmpty(uri) || !uri.StartsWith("file:", StringComparison.OrdinalIgnoreCase))
        {
            throw StoreError(MlflowErrorCode.InvalidParameterValue, $"Run '{runId}' stores artifacts at '{uri}', which the local store cannot reach (only file: locations).");
        }

        // Resolve the run's own artifacts folder: the meta's absolute URI may point to where the store used to be
        // (a copied mlruns folder), so fall back to the folder beside the run's meta.yaml.
        var local = Path.GetFullPath(FileStorePaths.FromFileUri(uri));
        var besideRun = Path.Combine(runDir, "artifacts");
        return IsUnder(_root, local) ? local : besideRun;
    }

    private static bool IsUnder(string root, string path)
        => path.StartsWith(root + Path.DirectorySeparatorChar, OperatingSystem.IsLinux() ? StringComparison.Ordinal : StringComparison.OrdinalIgnoreCase);

    // ------------------------------------------------------------------ helpers

    /// <summary>
    /// Writes a whole file atomically: a temp file in <paramref name="tempDir"/> (same file system, not a folder MLflow
    /// lists) renamed over the target; remembered for <see cref="FlushToDisk"/> when <see cref="TrackFilesForFlushToDisk"/>.
    /// </summary>
    private void WriteTextAtomically(string tempDir, string target, string text)
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

    /// <summary>Reads a meta.yaml; an empty file (a concurrent non-atomic writer, as MLflow's own) is re-read a few times.</summary>
    private static Dictionary<string, object?> ReadYamlWithRetry(string path)
    {
        for (var attempt = 0; ; attempt++)
        {
            var text = ReadUtf8(path);
            if (text.Length > 0 || attempt >= 3)
            {
                return MiniYaml.Read(text);
            }

            Thread.Sleep(10);
        }
    }

    internal static string? AsString(object? value) => value switch
    {
        null => null,
        string s => s,
        long l => l.ToString(CultureInfo.InvariantCulture),
        double d => PythonFloat.Format(d),
        bool b => b ? "True" : "False",
        _ => value.ToString(),
    };

    internal static long? AsLong(object? value) => value switch
    {
        long l => l,
        double d when !double.IsNaN(d) && !double.IsInfinity(d) => (long)d,
        string s when long.TryParse(s, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var l) => l,
        _ => null,
    };

    private static long Now() => DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();

    /// <summary>An error as the tracking server would answer it (same code and HTTP status), raised by the local store.</summary>
    internal static MlflowException StoreError(MlflowErrorCode code, string message)
    {
        var (status, raw) = code switch
        {
            MlflowErrorCode.InvalidParameterValue => (HttpStatusCode.BadRequest, "INVALID_PARAMETER_VALUE"),
            MlflowErrorCode.ResourceAlreadyExists => (HttpStatusCode.BadRequest, "RESOURCE_ALREADY_EXISTS"),
            MlflowErrorCode.ResourceDoesNotExist => (HttpStatusCode.NotFound, "RESOURCE_DOES_NOT_EXIST"),
            MlflowErrorCode.InvalidState => (HttpStatusCode.InternalServerError, "INVALID_STATE"),
            _ => (HttpStatusCode.InternalServerError, "INTERNAL_ERROR"),
        };
        return new MlflowException(status, raw, message, "local store", null);
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

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            RunWriters.CloseUnder(_root);
        }
    }
}
