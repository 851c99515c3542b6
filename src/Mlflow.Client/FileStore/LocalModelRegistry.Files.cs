using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace Mlflow.Client.FileStore;

// The files of the local registry: names checked and mapped to folders, meta.yaml written and read, tags and aliases.
internal sealed partial class LocalModelRegistry
{
    /// <summary>A version's <c>meta.yaml</c>, with the fields MLflow 2.12's file registry writes.</summary>
    private sealed record VersionMeta(string Name, long Version, long? Created, long? LastUpdated, string? Description, string Stage, string? Source, string? RunId, string? StorageLocation, string? RunLink, string? UserId, string? StatusMessage)
    {
        public string Status { get; init; } = "READY";

        public static VersionMeta From(Dictionary<string, object?> y) => new(
            LocalFileStore.AsString(y.GetValueOrDefault("name")) ?? "",
            LocalFileStore.AsLong(y.GetValueOrDefault("version")) ?? 0,
            LocalFileStore.AsLong(y.GetValueOrDefault("creation_timestamp")),
            LocalFileStore.AsLong(y.GetValueOrDefault("last_updated_timestamp")),
            LocalFileStore.AsString(y.GetValueOrDefault("description")),
            LocalFileStore.AsString(y.GetValueOrDefault("current_stage")) ?? "None",
            LocalFileStore.AsString(y.GetValueOrDefault("source")),
            LocalFileStore.AsString(y.GetValueOrDefault("run_id")),
            LocalFileStore.AsString(y.GetValueOrDefault("storage_location")),
            LocalFileStore.AsString(y.GetValueOrDefault("run_link")),
            LocalFileStore.AsString(y.GetValueOrDefault("user_id")),
            LocalFileStore.AsString(y.GetValueOrDefault("status_message")))
        {
            Status = LocalFileStore.AsString(y.GetValueOrDefault("status")) ?? "READY",
        };

        public string ToYaml() => MiniYaml.Write(
        [
            new("aliases", MiniYaml.EmptyList.Instance),
            new("creation_timestamp", Created),
            new("current_stage", Stage),
            new("description", Description),
            new("last_updated_timestamp", LastUpdated),
            new("name", Name),
            new("run_id", RunId),
            new("run_link", RunLink),
            new("source", Source),
            new("status", Status),
            new("status_message", StatusMessage),
            new("storage_location", StorageLocation),
            new("user_id", UserId),
            new("version", Version),
        ]);
    }

    [GeneratedRegex(@"^[\w\-]+$")]
    private static partial Regex AliasPattern();

    [GeneratedRegex(@"^[vV]\d+$")]
    private static partial Regex VersionAliasPattern();

    /// <summary>MLflow's name rule for the file registry (not empty, no path separator, no '%'), and a portable folder name.</summary>
    internal static void ValidateName(string? name)
    {
        if (string.IsNullOrEmpty(name))
        {
            throw LocalFileStore.StoreError(MlflowErrorCode.InvalidParameterValue, "Registered model name cannot be empty.");
        }

        if (name.AsSpan().IndexOfAny('/', '\\', '%') >= 0)
        {
            throw LocalFileStore.StoreError(MlflowErrorCode.InvalidParameterValue, $"Invalid name: '{name}'. Registered model name cannot contain a path separator or '%'.");
        }

        string? rule = null;
        if (name is "." or ".." || !FileStorePaths.IsPortableFileName(name, out rule))
        {
            throw new MlflowValidationException(name, rule ?? "not a folder name", "registered model name");
        }
    }

    /// <summary>MLflow's alias rule: letters, digits, '_' and '-', at most 255, not <c>latest</c>, not <c>v&lt;number&gt;</c>.</summary>
    internal static void ValidateAlias(string? alias)
    {
        if (string.IsNullOrEmpty(alias))
        {
            throw LocalFileStore.StoreError(MlflowErrorCode.InvalidParameterValue, "Registered model alias name cannot be empty.");
        }

        var reason = !AliasPattern().IsMatch(alias) ? "Names may only contain alphanumerics, underscores (_) and dashes (-)."
            : alias.Length > MaxAliasLength ? $"It is longer than {MaxAliasLength} characters."
            : alias.Equals("latest", StringComparison.OrdinalIgnoreCase) ? "'latest' (case insensitive) is reserved."
            : VersionAliasPattern().IsMatch(alias) ? "Version aliases (v<number>) are reserved."
            : null;
        if (reason is not null)
        {
            throw LocalFileStore.StoreError(MlflowErrorCode.InvalidParameterValue, $"Invalid alias name: '{alias}'. {reason}");
        }
    }

    internal static void ValidateTag(string key, string? value)
    {
        FileStorePaths.ValidateKey(key, "model version tag key", storable: true);
        if (value is not null && value.Length > MaxTagValueLength)
        {
            throw LocalFileStore.StoreError(MlflowErrorCode.InvalidParameterValue, $"Model version tag '{key}' has a value of {value.Length} characters; the limit is {MaxTagValueLength}.");
        }
    }

    /// <summary>A version number as MLflow stores it (<c>int(version)</c>): a positive whole number.</summary>
    internal static string NormalizeVersion(string? version)
    {
        if (version is null || !long.TryParse(version, NumberStyles.None, CultureInfo.InvariantCulture, out var n) || n <= 0)
        {
            throw LocalFileStore.StoreError(MlflowErrorCode.InvalidParameterValue, $"Model version must be an integer, got '{version}'");
        }

        return n.ToString(CultureInfo.InvariantCulture);
    }

    private string ModelDir(string name)
    {
        ValidateName(name);
        var dir = Path.Combine(_models, name);
        FileStorePaths.EnsureUnder(_models, Path.GetFullPath(dir), name, "registered model name");
        return dir;
    }

    private string ExistingModelDir(string name)
    {
        var dir = ModelDir(name);
        if (!File.Exists(Path.Combine(dir, LocalFileStore.MetaFileName)))
        {
            throw LocalFileStore.StoreError(MlflowErrorCode.ResourceDoesNotExist, $"Registered Model with name={name} not found");
        }

        return dir;
    }

    private (string ModelDir, string VersionDir) ExistingVersionDir(string name, string version)
    {
        var dir = ExistingModelDir(name);
        var versionDir = Path.Combine(dir, VersionPrefix + NormalizeVersion(version));
        if (!File.Exists(Path.Combine(versionDir, LocalFileStore.MetaFileName)) || VersionMeta.From(ReadMeta(versionDir)).Stage == DeletedStage)
        {
            throw LocalFileStore.StoreError(MlflowErrorCode.ResourceDoesNotExist, $"Model Version (name={name}, version={version}) not found");
        }

        return (dir, versionDir);
    }

    private static IEnumerable<string> ListVersionDirs(string modelDir)
        => Directory.Exists(modelDir)
            ? Directory.EnumerateDirectories(modelDir, VersionPrefix + "*").Where(d => VersionNumber(d) is not null)
            : [];

    private static long? VersionNumber(string versionDir)
        => long.TryParse(Path.GetFileName(versionDir).AsSpan(VersionPrefix.Length), NumberStyles.None, CultureInfo.InvariantCulture, out var n) ? n : null;

    /// <summary>
    /// Reads a <c>meta.yaml</c>. Block sequences (MLflow writes a version's alias list as <c>- name</c> lines) are skipped:
    /// aliases are read from the <c>aliases/</c> folder, as MLflow does.
    /// </summary>
    private static Dictionary<string, object?> ReadMeta(string dir)
    {
        var lines = File.ReadAllText(Path.Combine(dir, LocalFileStore.MetaFileName), Encoding.UTF8)
            .Replace("\r\n", "\n", StringComparison.Ordinal)
            .Split('\n')
            .Where(l => !l.StartsWith("- ", StringComparison.Ordinal) && l != "-");
        return MiniYaml.Read(string.Join('\n', lines));
    }

    private void WriteModelMeta(string dir, string name, long? created, long? updated, string? description)
    {
        var aliases = ReadAliases(dir).Select(a => new KeyValuePair<string, string>(a.Alias, a.Version)).ToList();
        var text = MiniYaml.Write(
        [
            new("aliases", new MiniYaml.Mapping(aliases)),
            new("creation_timestamp", created),
            new("description", description),
            new("last_updated_timestamp", updated),
            new("name", name),
        ]);
        _store.WriteTextAtomically(dir, Path.Combine(dir, LocalFileStore.MetaFileName), text);
    }

    private void WriteVersionMeta(string versionDir, VersionMeta meta)
        => _store.WriteTextAtomically(versionDir, Path.Combine(versionDir, LocalFileStore.MetaFileName), meta.ToYaml());

    private void WriteTag(string versionDir, string key, string? value)
        => _store.WriteTextAtomically(versionDir, FileStorePaths.Combine(versionDir, Path.Combine(versionDir, TagsFolder), key, "model version tag key"), value ?? "");

    /// <summary>Sets the model's last update time (and the aliases its meta.yaml lists), as MLflow does after every change.</summary>
    private void Touch(string dir, string name, long now)
    {
        var meta = ReadMeta(dir);
        WriteModelMeta(dir, name, LocalFileStore.AsLong(meta.GetValueOrDefault("creation_timestamp")), now, LocalFileStore.AsString(meta.GetValueOrDefault("description")));
    }

    private static List<RegisteredModelAlias> ReadAliases(string modelDir)
    {
        var folder = Path.Combine(modelDir, AliasesFolder);
        return Directory.Exists(folder)
            ? Directory.EnumerateFiles(folder)
                .Where(f => !Path.GetFileName(f).StartsWith(".tmp-", StringComparison.Ordinal))
                .Select(f => new RegisteredModelAlias(Path.GetFileName(f), File.ReadAllText(f, Encoding.UTF8).Trim()))
                .OrderBy(a => a.Alias, StringComparer.Ordinal)
                .ToList()
            : [];
    }

    private static List<Tag> ReadTags(string dir)
    {
        var folder = Path.Combine(dir, TagsFolder);
        if (!Directory.Exists(folder))
        {
            return [];
        }

        return Directory.EnumerateFiles(folder, "*", new EnumerationOptions { RecurseSubdirectories = true, AttributesToSkip = 0 })
            .Select(f => new Tag(Path.GetRelativePath(folder, f).Replace(Path.DirectorySeparatorChar, '/'), File.ReadAllText(f, Encoding.UTF8)))
            .OrderBy(t => t.Key, StringComparer.Ordinal)
            .ToList();
    }

    private static RegisteredModel ReadModel(string dir)
    {
        var meta = ReadMeta(dir);
        return new RegisteredModel
        {
            Name = LocalFileStore.AsString(meta.GetValueOrDefault("name")) ?? Path.GetFileName(dir),
            CreationTimestamp = LocalFileStore.AsLong(meta.GetValueOrDefault("creation_timestamp")),
            LastUpdatedTimestamp = LocalFileStore.AsLong(meta.GetValueOrDefault("last_updated_timestamp")),
            Description = LocalFileStore.AsString(meta.GetValueOrDefault("description")),
            Tags = ReadTags(dir),
            Aliases = ReadAliases(dir),
            LatestVersions = LatestVersions(dir),
        };
    }

    private static List<ModelVersion> LatestVersions(string dir)
        => ListVersionDirs(dir)
            .Select(d => ReadVersion(dir, d))
            .Where(v => v.CurrentStage != DeletedStage)
            .GroupBy(v => v.CurrentStage, StringComparer.Ordinal)
            .Select(g => g.MaxBy(v => long.Parse(v.Version, CultureInfo.InvariantCulture))!)
            .OrderBy(v => long.Parse(v.Version, CultureInfo.InvariantCulture))
            .ToList();

    private static ModelVersion ReadVersion(string modelDir, string versionDir)
    {
        var meta = VersionMeta.From(ReadMeta(versionDir));
        var version = meta.Version.ToString(CultureInfo.InvariantCulture);
        return new ModelVersion
        {
            Name = meta.Name,
            Version = version,
            CreationTimestamp = meta.Created,
            LastUpdatedTimestamp = meta.LastUpdated,
            UserId = meta.UserId,
            CurrentStage = meta.Stage,
            Description = meta.Description,
            Source = meta.Source,
            RunId = meta.RunId,
            Status = Enum.TryParse<ModelVersionStatus>(meta.Status.Replace("_", "", StringComparison.Ordinal), true, out var s) ? s : ModelVersionStatus.Ready,
            StatusMessage = meta.StatusMessage,
            RunLink = meta.RunLink,
            Tags = ReadTags(versionDir),
            Aliases = ReadAliases(modelDir).Where(a => a.Version == version).Select(a => a.Alias).ToList(),
        };
    }
}
