using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using Mlflow.Client.Store;

namespace Mlflow.Client.FileStore;

/// <summary>
/// The model registry of a local store, in MLflow 2.x's file-based registry format
/// (<c>mlflow/store/model_registry/file_store.py</c>), so MLflow's own <c>MlflowClient(registry_uri="file:...")</c>
/// reads what this writes: <c>&lt;root&gt;/models/&lt;name&gt;/meta.yaml</c>, <c>tags/&lt;key&gt;</c>,
/// <c>aliases/&lt;alias&gt;</c> (the version number as text), and <c>version-&lt;n&gt;/meta.yaml</c> with its own
/// <c>tags/</c>. Versions are READY at once, as in MLflow's file registry.
/// </summary>
/// <remarks>
/// Writes take the store's exclusive lock (<see cref="StoreRootLock"/>), so two processes registering versions of one
/// model get distinct numbers; every file is written atomically. One deviation from MLflow: a version's
/// <c>meta.yaml</c> always holds <c>aliases: []</c> (MLflow writes the aliases it knew at its last save there; both
/// readers take aliases from the <c>aliases/</c> folder only).
/// </remarks>
internal sealed partial class LocalModelRegistry : IModelRegistryStore
{
    internal const string ModelsFolderName = "models";
    private const string VersionPrefix = "version-";
    private const string TagsFolder = "tags";
    private const string AliasesFolder = "aliases";
    private const string DeletedStage = "Deleted_Internal";
    private const int MaxTagValueLength = 5000;
    private const int MaxAliasLength = 255;

    private readonly LocalFileStore _store;
    private readonly string _models;

    public LocalModelRegistry(LocalFileStore store)
    {
        _store = store;
        _models = Path.Combine(store.RootDirectory, ModelsFolderName);
    }

    public Task<RegisteredModel> CreateRegisteredModelAsync(string name, CancellationToken cancellationToken)
    {
        var dir = ModelDir(name);
        using (Lock(cancellationToken))
        {
            if (Directory.Exists(dir))
            {
                throw LocalFileStore.StoreError(MlflowErrorCode.ResourceAlreadyExists, $"Registered Model (name={name}) already exists.");
            }

            Directory.CreateDirectory(dir);
            var now = Now();
            WriteModelMeta(dir, name, now, now, null);
        }

        return Task.FromResult(ReadModel(dir));
    }

    public Task<RegisteredModel> GetRegisteredModelAsync(string name, CancellationToken cancellationToken)
        => Task.FromResult(ReadModel(ExistingModelDir(name)));

    public Task<RegisteredModel> UpdateRegisteredModelAsync(string name, string? description, CancellationToken cancellationToken)
    {
        var dir = ExistingModelDir(name);
        using (Lock(cancellationToken))
        {
            var meta = ReadMeta(dir);
            WriteModelMeta(dir, name, LocalFileStore.AsLong(meta.GetValueOrDefault("creation_timestamp")), Now(), description);
        }

        return Task.FromResult(ReadModel(dir));
    }

    public Task<ModelVersion> CreateModelVersionAsync(string name, string source, string? runId, IReadOnlyList<Tag> tags, string? description, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(source);
        var dir = ExistingModelDir(name);
        foreach (var tag in tags)
        {
            ValidateTag(tag.Key, tag.Value);
        }

        var storage = source;
        if (source.StartsWith("models:", StringComparison.OrdinalIgnoreCase))
        {
            var parsed = ModelUri.Parse(source);
            storage = parsed.Version is { } v ? GetDownloadUri(parsed.Name, v) : source;
        }

        string versionDir;
        using (Lock(cancellationToken))
        {
            var next = ListVersionDirs(dir).Select(d => VersionNumber(d) ?? 0).DefaultIfEmpty(0).Max() + 1;
            var version = next.ToString(CultureInfo.InvariantCulture);
            versionDir = Path.Combine(dir, VersionPrefix + version);
            Directory.CreateDirectory(versionDir);
            var now = Now();
            WriteVersionMeta(versionDir, new VersionMeta(name, next, now, now, description, "None", source, runId, storage, null, null, null));
            foreach (var tag in tags)
            {
                WriteTag(versionDir, tag.Key, tag.Value);
            }

            Touch(dir, name, now);
        }

        return Task.FromResult(ReadVersion(dir, versionDir));
    }

    public Task<ModelVersion> GetModelVersionAsync(string name, string version, CancellationToken cancellationToken)
    {
        var (dir, versionDir) = ExistingVersionDir(name, version);
        return Task.FromResult(ReadVersion(dir, versionDir));
    }

    public Task<ModelVersion> UpdateModelVersionAsync(string name, string version, string? description, CancellationToken cancellationToken)
    {
        var (dir, versionDir) = ExistingVersionDir(name, version);
        using (Lock(cancellationToken))
        {
            var meta = VersionMeta.From(ReadMeta(versionDir));
            WriteVersionMeta(versionDir, meta with { Description = description, LastUpdated = Now() });
        }

        return Task.FromResult(ReadVersion(dir, versionDir));
    }

    public Task<IReadOnlyList<ModelVersion>> GetLatestVersionsAsync(string name, CancellationToken cancellationToken)
    {
        var dir = ExistingModelDir(name);
        return Task.FromResult<IReadOnlyList<ModelVersion>>(LatestVersions(dir));
    }

    public Task SetAliasAsync(string name, string alias, string version, CancellationToken cancellationToken)
    {
        ValidateAlias(alias);
        var (dir, _) = ExistingVersionDir(name, version);
        using (Lock(cancellationToken))
        {
            _store.WriteTextAtomically(dir, Path.Combine(dir, AliasesFolder, alias), NormalizeVersion(version));
            Touch(dir, name, Now());
        }

        return Task.CompletedTask;
    }

    public Task DeleteAliasAsync(string name, string alias, CancellationToken cancellationToken)
    {
        ValidateAlias(alias);
        var dir = ExistingModelDir(name);
        using (Lock(cancellationToken))
        {
            var path = Path.Combine(dir, AliasesFolder, alias);
            if (File.Exists(path))
            {
                File.Delete(path);
                Touch(dir, name, Now());
            }
        }

        return Task.CompletedTask;
    }

    public Task<ModelVersion> GetModelVersionByAliasAsync(string name, string alias, CancellationToken cancellationToken)
    {
        ValidateAlias(alias);
        var dir = ExistingModelDir(name);
        var path = Path.Combine(dir, AliasesFolder, alias);
        if (!File.Exists(path))
        {
            throw LocalFileStore.StoreError(MlflowErrorCode.InvalidParameterValue, $"Registered model alias {alias} not found.");
        }

        return GetModelVersionAsync(name, File.ReadAllText(path, Encoding.UTF8).Trim(), cancellationToken);
    }

    public Task SetModelVersionTagAsync(string name, string version, string key, string value, CancellationToken cancellationToken)
    {
        ValidateTag(key, value);
        var (dir, versionDir) = ExistingVersionDir(name, version);
        using (Lock(cancellationToken))
        {
            WriteTag(versionDir, key, value);
            Touch(dir, name, Now());
        }

        return Task.CompletedTask;
    }

    public Task DeleteModelVersionTagAsync(string name, string version, string key, CancellationToken cancellationToken)
    {
        FileStorePaths.ValidateKey(key, "model version tag key", storable: true);
        var (dir, versionDir) = ExistingVersionDir(name, version);
        using (Lock(cancellationToken))
        {
            var path = FileStorePaths.Combine(versionDir, Path.Combine(versionDir, TagsFolder), key, "model version tag key");
            if (File.Exists(path))
            {
                File.Delete(path);
                Touch(dir, name, Now());
            }
        }

        return Task.CompletedTask;
    }

    public Task<string> GetModelVersionDownloadUriAsync(string name, string version, CancellationToken cancellationToken)
        => Task.FromResult(GetDownloadUri(name, version));

    private string GetDownloadUri(string name, string version)
    {
        var (_, versionDir) = ExistingVersionDir(name, version);
        var meta = VersionMeta.From(ReadMeta(versionDir));
        return string.IsNullOrEmpty(meta.StorageLocation) ? meta.Source ?? "" : meta.StorageLocation;
    }

    private FileStream Lock(CancellationToken cancellationToken) => StoreRootLock.Acquire(_store.RootDirectory, _store.LockTimeout, cancellationToken);

    private static long Now() => DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
}
