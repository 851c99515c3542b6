using System.Globalization;
using Mlflow.Client.FileStore;
using Mlflow.Client.Store;

namespace Mlflow.Client.InMemory;

/// <summary>
/// The model registry of <see cref="InMemoryTrackingStore"/>: registered models, versions (READY at once, stage
/// <c>None</c>), version tags and aliases in memory, with the names, aliases, tags and errors checked as the local
/// store's file registry checks them (<see cref="LocalModelRegistry"/>). Thread-safe: one lock guards the state.
/// </summary>
internal sealed class InMemoryModelRegistryStore : IModelRegistryStore
{
    private readonly object _gate = new();
    private readonly Dictionary<string, Model> _models = new(StringComparer.Ordinal);

    public Task<RegisteredModel> CreateRegisteredModelAsync(string name, CancellationToken cancellationToken)
    {
        LocalModelRegistry.ValidateName(name);
        lock (_gate)
        {
            if (_models.ContainsKey(name))
            {
                throw LocalFileStore.StoreError(MlflowErrorCode.ResourceAlreadyExists, $"Registered Model (name={name}) already exists.");
            }

            var now = Now();
            var model = new Model(name, now) { LastUpdated = now };
            _models.Add(name, model);
            return Task.FromResult(model.ToRegisteredModel());
        }
    }

    public Task<RegisteredModel> GetRegisteredModelAsync(string name, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            return Task.FromResult(Existing(name).ToRegisteredModel());
        }
    }

    public Task<RegisteredModel> UpdateRegisteredModelAsync(string name, string? description, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            var model = Existing(name);
            model.Description = description;
            model.LastUpdated = Now();
            return Task.FromResult(model.ToRegisteredModel());
        }
    }

    public Task<ModelVersion> CreateModelVersionAsync(string name, string source, string? runId, IReadOnlyList<Tag> tags, string? description, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(source);
        foreach (var tag in tags)
        {
            LocalModelRegistry.ValidateTag(tag.Key, tag.Value);
        }

        lock (_gate)
        {
            var model = Existing(name);
            var now = Now();
            var version = new ModelVersion
            {
                Name = name,
                Version = (model.Versions.Count + 1).ToString(CultureInfo.InvariantCulture),
                CreationTimestamp = now,
                LastUpdatedTimestamp = now,
                CurrentStage = "None",
                Description = description,
                Source = source,
                RunId = runId,
                Status = ModelVersionStatus.Ready,
                Tags = tags.GroupBy(t => t.Key, StringComparer.Ordinal).Select(g => g.Last()).OrderBy(t => t.Key, StringComparer.Ordinal).ToList(),
            };
            model.Versions.Add(version);
            model.LastUpdated = now;
            return Task.FromResult(model.WithAliases(version));
        }
    }

    public Task<ModelVersion> GetModelVersionAsync(string name, string version, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            var model = Existing(name);
            return Task.FromResult(model.WithAliases(model.Versions[VersionIndex(model, version)]));
        }
    }

    public Task<ModelVersion> UpdateModelVersionAsync(string name, string version, string? description, CancellationToken cancellationToken)
        => ChangeVersion(name, version, v => v with { Description = description });

    public Task<IReadOnlyList<ModelVersion>> GetLatestVersionsAsync(string name, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            return Task.FromResult<IReadOnlyList<ModelVersion>>(Existing(name).LatestVersions());
        }
    }

    public Task SetAliasAsync(string name, string alias, string version, CancellationToken cancellationToken)
    {
        LocalModelRegistry.ValidateAlias(alias);
        lock (_gate)
        {
            var model = Existing(name);
            model.Aliases[alias] = model.Versions[VersionIndex(model, version)].Version;
            model.LastUpdated = Now();
        }

        return Task.CompletedTask;
    }

    public Task DeleteAliasAsync(string name, string alias, CancellationToken cancellationToken)
    {
        LocalModelRegistry.ValidateAlias(alias);
        lock (_gate)
        {
            var model = Existing(name);
            if (model.Aliases.Remove(alias))
            {
                model.LastUpdated = Now();
            }
        }

        return Task.CompletedTask;
    }

    public Task<ModelVersion> GetModelVersionByAliasAsync(string name, string alias, CancellationToken cancellationToken)
    {
        LocalModelRegistry.ValidateAlias(alias);
        lock (_gate)
        {
            var model = Existing(name);
            if (!model.Aliases.TryGetValue(alias, out var version))
            {
                throw LocalFileStore.StoreError(MlflowErrorCode.InvalidParameterValue, $"Registered model alias {alias} not found.");
            }

            return Task.FromResult(model.WithAliases(model.Versions[VersionIndex(model, version)]));
        }
    }

    public Task SetModelVersionTagAsync(string name, string version, string key, string value, CancellationToken cancellationToken)
    {
        LocalModelRegistry.ValidateTag(key, value);
        return ChangeVersion(name, version, v => v with
        {
            Tags = v.Tags.Where(t => t.Key != key).Append(new Tag(key, value)).OrderBy(t => t.Key, StringComparer.Ordinal).ToList(),
        });
    }

    public Task DeleteModelVersionTagAsync(string name, string version, string key, CancellationToken cancellationToken)
    {
        FileStorePaths.ValidateKey(key, "model version tag key", storable: true);
        return ChangeVersion(name, version, v => v with { Tags = v.Tags.Where(t => t.Key != key).ToList() });
    }

    public Task<string> GetModelVersionDownloadUriAsync(string name, string version, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            var model = Existing(name);
            return Task.FromResult(model.Versions[VersionIndex(model, version)].Source ?? "");
        }
    }

    private Task<ModelVersion> ChangeVersion(string name, string version, Func<ModelVersion, ModelVersion> change)
    {
        lock (_gate)
        {
            var model = Existing(name);
            var index = VersionIndex(model, version);
            var now = Now();
            model.Versions[index] = change(model.Versions[index]) with { LastUpdatedTimestamp = now };
            model.LastUpdated = now;
            return Task.FromResult(model.WithAliases(model.Versions[index]));
        }
    }

    private Model Existing(string name)
    {
        LocalModelRegistry.ValidateName(name);
        return _models.TryGetValue(name, out var model)
            ? model
            : throw LocalFileStore.StoreError(MlflowErrorCode.ResourceDoesNotExist, $"Registered Model with name={name} not found");
    }

    private static int VersionIndex(Model model, string version)
    {
        var n = long.Parse(LocalModelRegistry.NormalizeVersion(version), CultureInfo.InvariantCulture);
        return n <= model.Versions.Count
            ? (int)n - 1
            : throw LocalFileStore.StoreError(MlflowErrorCode.ResourceDoesNotExist, $"Model Version (name={model.Name}, version={version}) not found");
    }

    private static long Now() => DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();

    private sealed class Model(string name, long created)
    {
        public string Name => name;

        public string? Description { get; set; }

        public long LastUpdated { get; set; }

        public List<ModelVersion> Versions { get; } = [];

        public SortedDictionary<string, string> Aliases { get; } = new(StringComparer.Ordinal);

        public ModelVersion WithAliases(ModelVersion version)
            => version with { Aliases = Aliases.Where(a => a.Value == version.Version).Select(a => a.Key).ToList() };

        public List<ModelVersion> LatestVersions()
            => Versions.GroupBy(v => v.CurrentStage, StringComparer.Ordinal)
                .Select(g => WithAliases(g.Last()))
                .OrderBy(v => long.Parse(v.Version, CultureInfo.InvariantCulture))
                .ToList();

        public RegisteredModel ToRegisteredModel() => new()
        {
            Name = name,
            CreationTimestamp = created,
            LastUpdatedTimestamp = LastUpdated,
            Description = Description,
            LatestVersions = LatestVersions(),
            Aliases = Aliases.Select(a => new RegisteredModelAlias(a.Key, a.Value)).ToList(),
        };
    }
}
