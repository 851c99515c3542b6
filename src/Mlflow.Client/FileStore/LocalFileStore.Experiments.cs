using System.Security.Cryptography;

namespace Mlflow.Client.FileStore;

internal sealed partial class LocalFileStore
{
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
        using var gate = StoreRootLock.Acquire(_root, LockTimeout, cancellationToken);
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

    public Task DeleteExperimentAsync(string experimentId, CancellationToken cancellationToken)
    {
        MlflowValidation.ValidateExperimentId(experimentId);
        if (experimentId == DefaultExperimentId)
        {
            throw StoreError(MlflowErrorCode.InvalidParameterValue, "Cannot delete the default experiment '0'. This is an internally reserved experiment.");
        }

        using var gate = StoreRootLock.Acquire(_root, LockTimeout, cancellationToken);
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
        using var gate = StoreRootLock.Acquire(_root, LockTimeout, cancellationToken);
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
}
