// MLflow 3 logged models in the local store, in MLflow 3.11.1's FileStore layout: <experiment>/models/m-<id>/ with
// meta.yaml, params/, tags/, metrics/ (lines "ts value step run_id [dataset_name dataset_digest]") and artifacts/.
using System.Collections.Concurrent;
using System.Text;
using Mlflow.Client.Artifacts;

namespace Mlflow.Client.FileStore;

internal sealed partial class LocalFileStore
{
    internal const string ModelsFolderName = "models";

    private readonly ConcurrentDictionary<string, string> _modelDirs = new(StringComparer.Ordinal);

    /// <summary>
    /// Creates a logged model PENDING, as MLflow 3.11.1's <c>FileStore.create_logged_model</c>: a new <c>m-&lt;32 hex&gt;</c>
    /// id, <c>meta.yaml</c> with <c>lifecycle_stage: active</c>, <c>metrics/</c> and <c>params/</c> folders, then the params
    /// and tags as files; its artifact location is <c>&lt;experiment artifact location&gt;/models/&lt;id&gt;/artifacts</c>.
    /// </summary>
    /// <exception cref="MlflowException">No such active experiment, or a name MLflow refuses (<c>/ : . % " '</c>).</exception>
    internal LoggedModel CreateLoggedModel(string experimentId, string? name, string? modelType, string? sourceRunId, IReadOnlyList<Param> @params, IReadOnlyList<Tag> tags)
    {
        MlflowValidation.ValidateExperimentId(experimentId);
        if (name is not null && (name.Length == 0 || name.IndexOfAny(['/', ':', '.', '%', '"', '\'']) >= 0))
        {
            throw StoreError(MlflowErrorCode.InvalidParameterValue,
                $"Invalid model name ('{name}') provided. Model name must be a non-empty string and cannot contain the following characters: ('/', ':', '.', '%', '\"', \"'\")");
        }

        var checkedParams = CheckModelParams(@params);
        var checkedTags = CheckModelTags(tags);
        var exp = ReadExperiment(experimentId, ViewType.All)
            ?? throw StoreError(MlflowErrorCode.ResourceDoesNotExist, $"Could not create model under experiment with ID {experimentId} - no such experiment exists.");
        if (exp.LifecycleStage != LifecycleStage.Active)
        {
            throw StoreError(MlflowErrorCode.InvalidState, $"Could not create model under non-active experiment with ID {experimentId}.");
        }

        var modelId = "m-" + Guid.NewGuid().ToString("N");
        var expDir = Path.Combine(_root, experimentId);
        var modelDir = Path.Combine(expDir, ModelsFolderName, modelId);
        var now = Now();
        var meta = new LoggedModelMeta
        {
            ModelId = modelId,
            ExperimentId = experimentId,
            Name = name ?? RunNameGenerator.Next(),
            ArtifactLocation = AppendToUri(exp.ArtifactLocation ?? _rootUri + "/" + experimentId, ModelsFolderName, modelId, "artifacts"),
            CreationTimestamp = now,
            LastUpdatedTimestamp = now,
            ModelType = string.IsNullOrEmpty(modelType) ? null : modelType,
            SourceRunId = string.IsNullOrEmpty(sourceRunId) ? null : sourceRunId,
            Status = LoggedModelStatus.Pending,
            LifecycleStage = "active",
        };
        Directory.CreateDirectory(modelDir);
        RunWriters.WithWriter(modelDir, _ =>
        {
            WriteTextAtomically(modelDir, Path.Combine(modelDir, MetaFileName), meta.ToYaml());
            Directory.CreateDirectory(Path.Combine(modelDir, "metrics"));
            Directory.CreateDirectory(Path.Combine(modelDir, "params"));
            WriteModelParams(modelDir, modelId, checkedParams);
            WriteModelTags(modelDir, checkedTags);
            return 0;
        });
        _modelDirs[modelId] = modelDir;
        return BuildLoggedModel(modelDir, meta);
    }

    /// <summary>Sets the model's final status and update time, rewriting <c>meta.yaml</c> as MLflow 3.11.1's <c>finalize_logged_model</c> does (without <c>lifecycle_stage</c>).</summary>
    internal LoggedModel FinalizeLoggedModel(string modelId, LoggedModelStatus status)
    {
        if (status is not (LoggedModelStatus.Ready or LoggedModelStatus.UploadFailed))
        {
            throw new ArgumentOutOfRangeException(nameof(status), status, "A logged model is finalized Ready or UploadFailed.");
        }

        var modelDir = LocateModel(modelId);
        var meta = RunWriters.WithWriter(modelDir, _ =>
        {
            var updated = ReadActiveModelMeta(modelDir, modelId) with { Status = status, LastUpdatedTimestamp = Now(), LifecycleStage = null };
            WriteTextAtomically(modelDir, Path.Combine(modelDir, MetaFileName), updated.ToYaml());
            return updated;
        });
        return BuildLoggedModel(modelDir, meta);
    }

    /// <summary>Sets tags on a logged model (a file per key under <c>tags/</c>, replacing the value of an existing key).</summary>
    internal void SetLoggedModelTags(string modelId, IReadOnlyList<Tag> tags)
    {
        var checkedTags = CheckModelTags(tags);
        var modelDir = LocateModel(modelId);
        RunWriters.WithWriter(modelDir, _ =>
        {
            ReadActiveModelMeta(modelDir, modelId);
            WriteModelTags(modelDir, checkedTags);
            return 0;
        });
    }

    /// <summary>Adds params to a logged model; a key it holds with another value is refused, as for runs.</summary>
    internal void LogLoggedModelParams(string modelId, IReadOnlyList<Param> @params)
    {
        var checkedParams = CheckModelParams(@params);
        var modelDir = LocateModel(modelId);
        RunWriters.WithWriter(modelDir, _ =>
        {
            ReadActiveModelMeta(modelDir, modelId);
            WriteModelParams(modelDir, modelId, checkedParams);
            return 0;
        });
    }

    /// <summary>The logged model with its params, tags and latest metric per (key, dataset), as MLflow 3.11.1 reads it.</summary>
    /// <exception cref="MlflowException">With <see cref="MlflowErrorCode.ResourceDoesNotExist"/> when there is no such model (or it is deleted).</exception>
    internal LoggedModel GetLoggedModel(string modelId)
    {
        var modelDir = LocateModel(modelId);
        return BuildLoggedModel(modelDir, ReadActiveModelMeta(modelDir, modelId));
    }

    /// <summary>The experiment's logged models (not deleted), ordered by creation time then id; malformed ones are skipped and logged.</summary>
    internal IReadOnlyList<LoggedModel> ListLoggedModels(string experimentId)
    {
        MlflowValidation.ValidateExperimentId(experimentId);
        var expDir = ReadExperiment(experimentId, ViewType.ActiveOnly) is not null ? Path.Combine(_root, experimentId) : Path.Combine(_trash, experimentId);
        var result = new List<LoggedModel>();
        foreach (var modelDir in SafeEnumerateDirectories(Path.Combine(expDir, ModelsFolderName)))
        {
            var meta = TryReadModelMeta(modelDir);
            if (meta is null || meta.LifecycleStage == "deleted" || meta.ExperimentId != experimentId || meta.ModelId != Path.GetFileName(modelDir))
            {
                continue;
            }

            _modelDirs[meta.ModelId] = modelDir;
            result.Add(BuildLoggedModel(modelDir, meta));
        }

        result.Sort((a, b) => a.Info.CreationTimestampMs != b.Info.CreationTimestampMs
            ? Nullable.Compare(a.Info.CreationTimestampMs, b.Info.CreationTimestampMs)
            : string.CompareOrdinal(a.Info.ModelId, b.Info.ModelId));
        return result;
    }

    /// <summary>The model's local artifact folder: its recorded <c>file:</c> location when under the store's root, else <c>&lt;model&gt;/artifacts</c> (a moved store).</summary>
    internal string LoggedModelArtifactDirectory(string modelId)
    {
        var modelDir = LocateModel(modelId);
        var uri = ReadActiveModelMeta(modelDir, modelId).ArtifactLocation;
        var besideModel = Path.Combine(modelDir, "artifacts");
        if (string.IsNullOrEmpty(uri) || !uri.StartsWith("file:", StringComparison.OrdinalIgnoreCase))
        {
            return besideModel;
        }

        var local = Path.GetFullPath(FileStorePaths.FromFileUri(uri));
        return IsUnder(_root, local) ? local : besideModel;
    }

    /// <summary>The model's artifact files (<see cref="LoggedModelArtifactDirectory"/>).</summary>
    internal LocalArtifactRepository LoggedModelArtifacts(string modelId) => new(LoggedModelArtifactDirectory(modelId));

    /// <summary>The folder of a logged model (active or deleted experiments), for readers such as sync.</summary>
    internal string GetLoggedModelDirectory(string modelId) => LocateModel(modelId);

    /// <summary>
    /// The model's metric lines in file order per key (every point, not the latest), each with its run id
    /// (<see cref="Metric.RunId"/>), model id and dataset: what a sync pairs with the run's points.
    /// </summary>
    internal Dictionary<string, List<Metric>> ReadLoggedModelMetricLines(string modelId)
    {
        var modelDir = LocateModel(modelId);
        var result = new Dictionary<string, List<Metric>>(StringComparer.Ordinal);
        foreach (var (key, file) in ModelMetricFiles(modelDir))
        {
            result[key] = ReadModelMetricFile(file, key, modelId);
        }

        return result;
    }

    /// <summary>
    /// Appends the model-linked points of a batch to the metric files of their models in the run's experiment
    /// (<c>models/&lt;model_id&gt;/metrics/&lt;key&gt;</c>, one line per point naming the run), as MLflow 3.11.1's
    /// <c>_log_model_metric</c>: also for a model id this store does not hold (a server's), whose folder then holds only
    /// metrics, as with Python. The caller holds the run's writer.
    /// </summary>
    private void AppendModelMetrics(string runDir, string runId, IReadOnlyList<Metric> metrics)
    {
        var expDir = Path.GetDirectoryName(runDir)!;
        foreach (var byModel in metrics.Where(m => m.ModelId is not null).GroupBy(m => m.ModelId!, StringComparer.Ordinal))
        {
            var modelDir = ModelFolder(expDir, byModel.Key);
            foreach (var byKey in byModel.GroupBy(m => m.Key, StringComparer.Ordinal))
            {
                var path = FileStorePaths.Combine(_root, Path.Combine(modelDir, "metrics"), byKey.Key, "metric key");
                var text = new StringBuilder();
                foreach (var m in byKey)
                {
                    text.Append(FormatModelLine(m, runId));
                }

                Directory.CreateDirectory(Path.GetDirectoryName(path)!);
                using var stream = new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.ReadWrite | FileShare.Delete, bufferSize: 0);
                stream.Seek(0, SeekOrigin.End);
                RepairTornTail(stream);
                stream.Write(Encoding.UTF8.GetBytes(text.ToString()));
                MarkForFlushToDisk(path);
            }
        }
    }

    /// <summary>Checks the model ids and datasets of a batch's points before anything is written: each id one portable folder name.</summary>
    private static void CheckModelLinks(Metric m) => CheckMetricLink(m.ModelId, m.DatasetName, m.DatasetDigest, m.Key);

    /// <summary>
    /// The local store's rules for a metric point's link to a logged model: the id is one portable folder name, the
    /// dataset's name and digest words of a metric line. <see cref="ActiveRun"/> runs them on the caller's thread while
    /// its run may write to a local store.
    /// </summary>
    /// <param name="modelId">The model id, or <see langword="null"/>.</param>
    /// <param name="datasetName">The dataset's name, or <see langword="null"/>.</param>
    /// <param name="datasetDigest">The dataset's digest, or <see langword="null"/>.</param>
    /// <param name="metricKey">The metric's key for the message; <see langword="null"/> for several metrics.</param>
    /// <exception cref="MlflowValidationException">A rule is broken.</exception>
    internal static void CheckMetricLink(string? modelId, string? datasetName, string? datasetDigest, string? metricKey)
    {
        var ofMetric = metricKey is null ? "of the metrics" : "of metric " + metricKey;
        if (modelId is not null && !IsModelFolderName(modelId))
        {
            throw new MlflowValidationException(modelId, ModelIdRule, "model id " + ofMetric);
        }

        foreach (var part in (string?[])[datasetName, datasetDigest])
        {
            if (part is not null && (part.Length == 0 || part.Any(char.IsWhiteSpace)))
            {
                throw new MlflowValidationException(part, "a metric's dataset name and digest are words of a metric line in the local store (not empty, no spaces or line breaks)", "dataset " + ofMetric);
            }
        }
    }

    private const string ModelIdRule = "a logged model id is one folder name in the local store (m-… as MLflow makes them)";

    private static bool IsModelFolderName(string modelId)
        => !string.IsNullOrEmpty(modelId) && !modelId.Contains('/', StringComparison.Ordinal) && !modelId.StartsWith('.')
            && FileStorePaths.IsPortableFileName(modelId, out _);

    private static void CheckModelId(string modelId)
    {
        if (!IsModelFolderName(modelId))
        {
            throw new MlflowValidationException(modelId, ModelIdRule, "model id");
        }
    }

    private static string FormatModelLine(Metric m, string runId)
    {
        var value = PythonFloat.Format(m.Value);
        var ts = m.Timestamp.ToString(System.Globalization.CultureInfo.InvariantCulture);
        var step = m.Step.ToString(System.Globalization.CultureInfo.InvariantCulture);
        return m.DatasetName is not null && m.DatasetDigest is not null
            ? $"{ts} {value} {step} {runId} {m.DatasetName} {m.DatasetDigest}\n"
            : $"{ts} {value} {step} {runId}\n";
    }

    /// <summary>Parses "ts value step run_id" or "ts value step run_id dataset_name dataset_digest" (MLflow 3.11.1's model metric lines).</summary>
    internal static bool TryParseModelMetricLine(ReadOnlySpan<char> line, string key, string modelId, out Metric metric)
    {
        metric = null!;
        line = line.Trim();
        Span<Range> parts = stackalloc Range[7];
        var count = line.Split(parts, ' ');
        if (count is not (4 or 6)
            || !long.TryParse(line[parts[0]], System.Globalization.NumberStyles.AllowLeadingSign, System.Globalization.CultureInfo.InvariantCulture, out var ts)
            || !PythonFloat.TryParse(line[parts[1]], out var value)
            || !long.TryParse(line[parts[2]], System.Globalization.NumberStyles.AllowLeadingSign, System.Globalization.CultureInfo.InvariantCulture, out var step))
        {
            return false;
        }

        metric = new Metric(key, value, ts, step)
        {
            RunId = line[parts[3]].ToString(),
            ModelId = modelId,
            DatasetName = count == 6 ? line[parts[4]].ToString() : null,
            DatasetDigest = count == 6 ? line[parts[5]].ToString() : null,
        };
        return true;
    }

    private List<Metric> ReadModelMetricFile(string path, string key, string modelId)
    {
        var result = new List<Metric>();
        string text;
        try
        {
            text = ReadUtf8(path);
        }
        catch (FileNotFoundException)
        {
            return result;
        }

        var lines = text.Split('\n');
        for (var i = 0; i < lines.Length; i++)
        {
            if (i == lines.Length - 1)
            {
                if (lines[i].Length > 0)
                {
                    ReportSkipped(path, i + 1, "the last line has no line end (torn write)");
                }

                break;
            }

            if (string.IsNullOrWhiteSpace(lines[i]))
            {
                continue;
            }

            if (TryParseModelMetricLine(lines[i], key, modelId, out var m))
            {
                result.Add(m);
            }
            else
            {
                ReportSkipped(path, i + 1, "malformed line");
            }
        }

        return result;
    }

    private static IEnumerable<(string Key, string File)> ModelMetricFiles(string modelDir)
    {
        var folder = Path.Combine(modelDir, "metrics");
        if (!Directory.Exists(folder))
        {
            yield break;
        }

        foreach (var file in Directory.EnumerateFiles(folder, "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal))
        {
            var key = Path.GetRelativePath(folder, file).Replace(Path.DirectorySeparatorChar, '/');
            if (MlflowValidation.IsValidKey(key, out _))
            {
                yield return (key, file);
            }
        }
    }

    private LoggedModel BuildLoggedModel(string modelDir, LoggedModelMeta meta)
    {
        // The latest point per (key, dataset name, dataset digest): MLflow 3.11.1's _get_model_metrics_from_file.
        var metrics = new List<Metric>();
        foreach (var (key, file) in ModelMetricFiles(modelDir))
        {
            foreach (var group in ReadModelMetricFile(file, key, meta.ModelId).GroupBy(m => (m.DatasetName, m.DatasetDigest)))
            {
                metrics.Add(group.Aggregate((best, m) => IsLater(m, best) ? m : best));
            }
        }

        return new LoggedModel
        {
            Info = new LoggedModelMetadata
            {
                ModelId = meta.ModelId,
                ExperimentId = meta.ExperimentId,
                Name = meta.Name,
                CreationTimestampMs = meta.CreationTimestamp,
                LastUpdatedTimestampMs = meta.LastUpdatedTimestamp,
                ArtifactUri = meta.ArtifactLocation,
                Status = meta.Status,
                ModelType = meta.ModelType,
                SourceRunId = meta.SourceRunId,
                StatusMessage = meta.StatusMessage,
                Tags = ReadKeyValueFiles(Path.Combine(modelDir, "tags")).Select(kv => new Tag(kv.Key, kv.Value)).ToList(),
            },
            Data = new LoggedModelData
            {
                Params = ReadKeyValueFiles(Path.Combine(modelDir, "params")).Select(kv => new Param(kv.Key, kv.Value)).ToList(),
                Metrics = metrics,
            },
        };
    }

    private List<Param> CheckModelParams(IReadOnlyList<Param> @params)
    {
        var result = new List<Param>(@params.Count);
        foreach (var p in @params)
        {
            ArgumentNullException.ThrowIfNull(p);
            FileStorePaths.ValidateKey(p.Key, "param key");
            result.Add(new Param(p.Key, CheckValue(p.Value, MlflowLimits.MaxParamValueLength, p.Key, "param")));
        }

        return result;
    }

    private List<Tag> CheckModelTags(IReadOnlyList<Tag> tags) => CheckRunTags(tags);

    private void WriteModelParams(string modelDir, string modelId, List<Param> @params)
    {
        foreach (var p in @params)
        {
            var path = FileStorePaths.Combine(_root, Path.Combine(modelDir, "params"), p.Key, "param key");
            if (File.Exists(path) && ReadUtf8(path) is var current && current != p.Value)
            {
                throw StoreError(MlflowErrorCode.InvalidParameterValue,
                    $"Changing param values is not allowed. Param with key='{p.Key}' was already logged with value='{current}' for logged model ID='{modelId}'. Attempted logging new value '{p.Value}'.");
            }

            WriteTextAtomically(modelDir, path, p.Value);
        }
    }

    private void WriteModelTags(string modelDir, List<Tag> tags)
    {
        foreach (var t in tags)
        {
            WriteTextAtomically(modelDir, FileStorePaths.Combine(_root, Path.Combine(modelDir, "tags"), t.Key, "tag key"), t.Value);
        }
    }

    /// <summary>The folder a model id names in an experiment folder (checked to stay under the root).</summary>
    private string ModelFolder(string expDir, string modelId)
    {
        CheckModelId(modelId);
        return FileStorePaths.Combine(_root, Path.Combine(expDir, ModelsFolderName), modelId, "model id");
    }

    /// <summary>The model's folder; cached, re-found by scanning every experiment (active and deleted) when it moved.</summary>
    private string LocateModel(string modelId)
    {
        CheckModelId(modelId);
        if (_modelDirs.TryGetValue(modelId, out var cached) && File.Exists(Path.Combine(cached, MetaFileName)))
        {
            return cached;
        }

        var experiments = SafeEnumerateDirectories(_root)
            .Where(d => Path.GetFileName(d) is not (TrashFolderName or ModelsFolderName))
            .Concat(SafeEnumerateDirectories(_trash));
        foreach (var expDir in experiments)
        {
            var modelDir = Path.Combine(expDir, ModelsFolderName, modelId);
            if (File.Exists(Path.Combine(modelDir, MetaFileName)))
            {
                _modelDirs[modelId] = modelDir;
                return modelDir;
            }
        }

        throw StoreError(MlflowErrorCode.ResourceDoesNotExist, $"Model '{modelId}' not found");
    }

    private LoggedModelMeta ReadActiveModelMeta(string modelDir, string modelId)
    {
        var meta = TryReadModelMeta(modelDir) ?? throw StoreError(MlflowErrorCode.InvalidState, $"Model '{modelId}' metadata is in invalid state.");
        if (meta.LifecycleStage == "deleted")
        {
            throw StoreError(MlflowErrorCode.ResourceDoesNotExist, $"Model '{modelId}' not found");
        }

        if (meta.ExperimentId != Path.GetFileName(Path.GetDirectoryName(Path.GetDirectoryName(modelDir))))
        {
            throw StoreError(MlflowErrorCode.InvalidState, $"Model '{modelId}' metadata is in invalid state.");
        }

        return meta;
    }

    private LoggedModelMeta? TryReadModelMeta(string modelDir)
    {
        var path = Path.Combine(modelDir, MetaFileName);
        if (!File.Exists(path))
        {
            return null;
        }

        try
        {
            return LoggedModelMeta.FromYaml(ReadYamlWithRetry(path));
        }
        catch (Exception ex) when (ex is FormatException or IOException or InvalidCastException)
        {
            FileStoreLog.SkippedEntity(_logger, path, "malformed logged model meta.yaml", ex);
            return null;
        }
    }
}
