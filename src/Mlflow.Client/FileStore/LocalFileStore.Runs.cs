using System.Text;

namespace Mlflow.Client.FileStore;

internal sealed partial class LocalFileStore
{
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

    /// <summary>
    /// The run without its latest metrics (info, params, tags, inputs): what a sync needs, which reads the metric files
    /// itself from where it last stopped instead of parsing each in full here.
    /// </summary>
    internal Run GetRunWithoutMetrics(string runId)
    {
        MlflowValidation.ValidateRunId(runId);
        var runDir = LocateRun(runId);
        return BuildRun(runDir, ReadRunMeta(runDir) ?? throw InvalidRunState(runId), withMetrics: false);
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
}
