using System.Diagnostics;

namespace Mlflow.Client;

/// <summary>A model of the model registry: a name with versions, tags and aliases.</summary>
[DebuggerDisplay("RegisteredModel {Name}")]
public sealed record RegisteredModel
{
    // Names and lists are never null: the server omits empty ones, and source-generated deserialization passes null for missing init-only members.
    private readonly string _name = "";
    private readonly IReadOnlyList<ModelVersion> _latestVersions = [];
    private readonly IReadOnlyList<Tag> _modelTags = [];
    private readonly IReadOnlyList<RegisteredModelAlias> _modelAliases = [];

    /// <summary>The unique model name.</summary>
    public string Name { get => _name; init => _name = value ?? ""; }
    /// <summary>Creation time in milliseconds since the Unix epoch.</summary>
    public long? CreationTimestamp { get; init; }
    /// <summary>Last update time in milliseconds since the Unix epoch.</summary>
    public long? LastUpdatedTimestamp { get; init; }
    /// <summary>The description, if one was set.</summary>
    public string? Description { get; init; }
    /// <summary>The newest version of each stage (stages are deprecated by MLflow 2.9; prefer aliases).</summary>
    public IReadOnlyList<ModelVersion> LatestVersions { get => _latestVersions; init => _latestVersions = value ?? []; }
    /// <summary>Model tags.</summary>
    public IReadOnlyList<Tag> Tags { get => _modelTags; init => _modelTags = value ?? []; }
    /// <summary>Aliases pointing at versions of this model (servers from MLflow 2.3).</summary>
    public IReadOnlyList<RegisteredModelAlias> Aliases { get => _modelAliases; init => _modelAliases = value ?? []; }
}

/// <summary>An alias of a registered model, such as <c>champion</c>, and the version it points at.</summary>
/// <param name="Alias">The alias name.</param>
/// <param name="Version">The version number, as text (MLflow sends versions as strings).</param>
[DebuggerDisplay("{Alias} -> {Version}")]
public sealed record RegisteredModelAlias(string Alias, string Version);

/// <summary>One version of a registered model.</summary>
[DebuggerDisplay("ModelVersion {Name} v{Version} {CurrentStage}")]
public sealed record ModelVersion
{
    private readonly string _name = "";
    private readonly string _version = "";
    private readonly IReadOnlyList<Tag> _versionTags = [];
    private readonly IReadOnlyList<string> _versionAliases = [];

    /// <summary>The registered model's name.</summary>
    public string Name { get => _name; init => _name = value ?? ""; }
    /// <summary>The version number, as text (<c>"1"</c>, <c>"2"</c>...), exactly as the server sends it.</summary>
    public string Version { get => _version; init => _version = value ?? ""; }
    /// <summary>Creation time in milliseconds since the Unix epoch.</summary>
    public long? CreationTimestamp { get; init; }
    /// <summary>Last update time in milliseconds since the Unix epoch.</summary>
    public long? LastUpdatedTimestamp { get; init; }
    /// <summary>The user who created the version, when the server knows it.</summary>
    public string? UserId { get; init; }
    /// <summary>The stage: <c>None</c>, <c>Staging</c>, <c>Production</c> or <c>Archived</c> (deprecated by MLflow 2.9).</summary>
    public string? CurrentStage { get; init; }
    /// <summary>The description, if one was set.</summary>
    public string? Description { get; init; }
    /// <summary>
    /// Where the model's files are, for example <c>mlflow-artifacts:/1/&lt;run id&gt;/artifacts/model</c>, or
    /// <c>models:/m-&lt;id&gt;</c> for a version registered from an MLflow 3 logged model.
    /// </summary>
    public string? Source { get; init; }
    /// <summary>The run that produced the model, if any.</summary>
    public string? RunId { get; init; }
    /// <summary>Registration status.</summary>
    public ModelVersionStatus? Status { get; init; }
    /// <summary>Details of the status, when registration failed.</summary>
    public string? StatusMessage { get; init; }
    /// <summary>Version tags.</summary>
    public IReadOnlyList<Tag> Tags { get => _versionTags; init => _versionTags = value ?? []; }
    /// <summary>A link to the run, when it lives on another server.</summary>
    public string? RunLink { get; init; }
    /// <summary>The aliases pointing at this version.</summary>
    public IReadOnlyList<string> Aliases { get => _versionAliases; init => _versionAliases = value ?? []; }
    /// <summary>
    /// The <c>model_id</c> field of the answer, read as the server sends it. MLflow 3.11.1's registry does not fill it
    /// in its responses (its <c>ModelVersion.to_proto</c> leaves it out, even when the version was created with one), so
    /// it is <see langword="null"/> there and on 2.x servers: do not rely on it. A version registered from an MLflow 3
    /// logged model names it in <see cref="Source"/> instead, as <c>models:/m-&lt;id&gt;</c> (which
    /// <see cref="MlflowModelRegistry.DownloadModelAsync"/> accepts).
    /// </summary>
    public string? ModelId { get; init; }
}

/// <summary>What a registered-model search looks for (MLflow's <c>registered-models/search</c>).</summary>
public sealed record RegisteredModelSearchOptions
{
    /// <summary>Filter expression, for example <c>name LIKE 'fraud%'</c>.</summary>
    public string? Filter { get; init; }
    /// <summary>Page size (1 to 1000); the server's default (100) when <see langword="null"/>.</summary>
    public int? MaxResults { get; init; }
    /// <summary>Order, for example <c>name ASC</c> or <c>last_updated_timestamp DESC</c>.</summary>
    public IReadOnlyList<string>? OrderBy { get; init; }
}

/// <summary>What a model-version search looks for (MLflow's <c>model-versions/search</c>).</summary>
public sealed record ModelVersionSearchOptions
{
    /// <summary>Filter expression, for example <c>name = 'fraud'</c> or <c>run_id = '...'</c>.</summary>
    public string? Filter { get; init; }
    /// <summary>Page size; the server's default when <see langword="null"/>.</summary>
    public int? MaxResults { get; init; }
    /// <summary>Order, for example <c>version_number DESC</c>.</summary>
    public IReadOnlyList<string>? OrderBy { get; init; }
}

