namespace Mlflow.Client.FileStore;

internal sealed partial class LocalFileStore
{
    private const int MaxCachedMetricKeys = 10_000;

    public Task LogBatchAsync(string runId, IReadOnlyList<Metric> metrics, IReadOnlyList<Param> @params, IReadOnlyList<Tag> tags, CancellationToken cancellationToken)
    {
        MlflowValidation.ValidateRunId(runId);
        metrics ??= [];
        @params ??= [];
        tags ??= [];

        // Everything is checked before anything is written.
        foreach (var m in metrics)
        {
            ArgumentNullException.ThrowIfNull(m);
            if (!_validMetricKeys.ContainsKey(m.Key))
            {
                FileStorePaths.ValidateKey(m.Key, "metric key");
                if (_validMetricKeys.Count < MaxCachedMetricKeys)
                {
                    _validMetricKeys.TryAdd(m.Key, 0);
                }
            }

            MlflowValidation.ValidateTimestamp(m.Timestamp, m.Key);
            if (m.ModelId is not null)
            {
                CheckModelLinks(m);
            }
        }

        var checkedParams = new List<Param>(@params.Count);
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var p in @params)
        {
            ArgumentNullException.ThrowIfNull(p);
            FileStorePaths.ValidateKey(p.Key, "param key");
            if (!seen.Add(p.Key))
            {
                throw StoreError(MlflowErrorCode.InvalidParameterValue, $"Duplicate parameter keys have been submitted: ['{p.Key}']. Please ensure the request contains only one param value per param key.");
            }

            checkedParams.Add(new Param(p.Key, CheckValue(p.Value, MlflowLimits.MaxParamValueLength, p.Key, "param")));
        }

        var checkedTags = CheckRunTags(tags);
        var runDir = LocateRun(runId);
        RunWriters.WithWriter(runDir, w =>
        {
            var meta = EnsureActive(w, runId);
            foreach (var p in checkedParams)
            {
                WriteParam(runDir, runId, p);
            }

            if (metrics.Count > 0)
            {
                AppendMetrics(w, metrics);
                AppendModelMetrics(runDir, runId, metrics);
            }

            foreach (var t in checkedTags)
            {
                WriteTextAtomically(runDir, FileStorePaths.Combine(_root, Path.Combine(runDir, "tags"), t.Key, "tag key"), t.Value);
                if (t.Key == RunNameTag && t.Value != meta.RunName)
                {
                    meta = meta with { RunName = t.Value };
                    WriteRunMeta(w, meta);
                }
            }

            return 0;
        });
        return Task.CompletedTask;
    }

    private void WriteParam(string runDir, string runId, Param p)
    {
        var path = FileStorePaths.Combine(_root, Path.Combine(runDir, "params"), p.Key, "param key");
        if (File.Exists(path))
        {
            var current = ReadUtf8(path);
            if (current != p.Value)
            {
                throw StoreError(MlflowErrorCode.InvalidParameterValue,
                    $"Changing param values is not allowed. Param with key='{p.Key}' was already logged with value='{current}' for run ID='{runId}'. Attempted logging new value '{p.Value}'.");
            }

            return;
        }

        WriteTextAtomically(runDir, path, p.Value);
    }

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
}
