using System.Diagnostics;
using System.Text.Json.Serialization;

namespace Mlflow.Client;

/// <summary>
/// A logged model (MLflow 3): a model with its own id (<c>m-…</c>), files under its own artifact location, params,
/// tags and the metrics measured on it, linked to the run that produced it.
/// </summary>
[DebuggerDisplay("LoggedModel {Info.ModelId} {Info.Name} {Info.Status}")]
public sealed record LoggedModel
{
    /// <summary>Id, name, status, location and tags.</summary>
    public LoggedModelMetadata Info { get; init => field = value ?? new(); } = new();
    /// <summary>Params and linked metrics.</summary>
    public LoggedModelData Data { get; init => field = value ?? new(); } = new();
}

/// <summary>
/// What MLflow records about a logged model (the proto's <c>LoggedModelInfo</c>; that name is taken by what
/// <see cref="ActiveRun.LogModel"/> returns).
/// </summary>
public sealed record LoggedModelMetadata
{
    /// <summary>The model id: <c>m-</c> followed by 32 hex characters on MLflow's own stores.</summary>
    public string ModelId { get; init => field = value ?? ""; } = "";
    /// <summary>The experiment the model belongs to.</summary>
    public string ExperimentId { get; init => field = value ?? ""; } = "";
    /// <summary>The model's name (the server makes one up when none was given).</summary>
    public string Name { get; init => field = value ?? ""; } = "";
    /// <summary>Creation time in milliseconds since the Unix epoch.</summary>
    public long? CreationTimestampMs { get; init; }
    /// <summary>Last update time in milliseconds since the Unix epoch.</summary>
    public long? LastUpdatedTimestampMs { get; init; }
    /// <summary>Where the model's files go, for example <c>mlflow-artifacts:/1/models/m-…/artifacts</c>.</summary>
    public string? ArtifactUri { get; init; }
    /// <summary>Whether the files are complete: <see cref="LoggedModelStatus.Pending"/> until finalized.</summary>
    public LoggedModelStatus Status { get; init; }
    /// <summary>The user or principal who created the model, when the server records one.</summary>
    public long? CreatorId { get; init; }
    /// <summary>The model type given at creation, for example <c>Classifier</c>; the server sends an empty string when none was given.</summary>
    public string? ModelType { get; init; }
    /// <summary>The run that produced the model; MLflow 3.11.1 sends an empty string when there is none.</summary>
    public string? SourceRunId { get; init; }
    /// <summary>Details of the status, when the server gives some.</summary>
    public string? StatusMessage { get; init; }
    /// <summary>Model tags.</summary>
    public IReadOnlyList<Tag> Tags { get; init => field = value ?? []; } = [];
    /// <summary>Registered model versions made from this model, when the server fills them in (MLflow 3.11.1's own store does not).</summary>
    public IReadOnlyList<LoggedModelRegistration> Registrations { get; init => field = value ?? []; } = [];
}

/// <summary>The params of a logged model and the metrics linked to it.</summary>
public sealed record LoggedModelData
{
    /// <summary>Params (set at creation or with <see cref="MlflowClient.LogLoggedModelParamsAsync"/>).</summary>
    public IReadOnlyList<Param> Params { get; init => field = value ?? []; } = [];
    /// <summary>Metrics logged with this model's id (<see cref="Metric.ModelId"/>), each with its <see cref="Metric.RunId"/>.</summary>
    public IReadOnlyList<Metric> Metrics { get; init => field = value ?? []; } = [];
}

/// <summary>A registered model version made from a logged model.</summary>
/// <param name="Name">The registered model's name.</param>
/// <param name="Version">The version number, as text.</param>
public sealed record LoggedModelRegistration(string Name, string Version);

/// <summary>Whether a logged model's files are complete (MLflow's <c>LoggedModelStatus</c>).</summary>
[JsonConverter(typeof(Rest.LoggedModelStatusConverter))]
public enum LoggedModelStatus
{
    /// <summary>Not given (<c>LOGGED_MODEL_STATUS_UNSPECIFIED</c>).</summary>
    Unspecified = 0,
    /// <summary>Created; the files are not completely uploaded yet (<c>LOGGED_MODEL_PENDING</c>).</summary>
    Pending = 1,
    /// <summary>The files are complete (<c>LOGGED_MODEL_READY</c>).</summary>
    Ready = 2,
    /// <summary>Uploading the files failed (<c>LOGGED_MODEL_UPLOAD_FAILED</c>).</summary>
    UploadFailed = 3,
}

/// <summary>What a logged-model search looks for (MLflow's <c>logged-models/search</c>).</summary>
public sealed record LoggedModelSearchOptions
{
    /// <summary>Filter expression over info, params, tags and metrics, for example <c>name = 'clf' AND metrics.accuracy &gt; 0.9</c>.</summary>
    public string? Filter { get; init; }
    /// <summary>Datasets the metric clauses of <see cref="Filter"/> apply to; any dataset when empty.</summary>
    public IReadOnlyList<LoggedModelDatasetFilter>? Datasets { get; init; }
    /// <summary>Page size (the server allows at most 50, its default).</summary>
    public int? MaxResults { get; init; }
    /// <summary>Order, for example <c>new LoggedModelOrderBy("creation_timestamp", Ascending: false)</c>.</summary>
    public IReadOnlyList<LoggedModelOrderBy>? OrderBy { get; init; }
}

/// <summary>A dataset the metric clauses of a logged-model search apply to.</summary>
/// <param name="DatasetName">The dataset name.</param>
/// <param name="DatasetDigest">Its digest; any digest when <see langword="null"/>.</param>
public sealed record LoggedModelDatasetFilter(string DatasetName, string? DatasetDigest = null);

/// <summary>One ordering column of a logged-model search.</summary>
/// <param name="FieldName">The field, for example <c>creation_timestamp</c>, <c>name</c> or <c>metrics.accuracy</c>.</param>
/// <param name="Ascending">Ascending (the default) or descending.</param>
/// <param name="DatasetName">For a metric: only values measured on this dataset count.</param>
/// <param name="DatasetDigest">For a metric with <paramref name="DatasetName"/>: only this digest counts.</param>
public sealed record LoggedModelOrderBy(string FieldName, bool Ascending = true, string? DatasetName = null, string? DatasetDigest = null);

/// <summary>
/// What the SDK learned about a tracking server, once per <see cref="MlflowClient"/>
/// (<see cref="MlflowClient.GetServerInfoAsync"/>).
/// </summary>
public sealed record MlflowServerInfo
{
    /// <summary>The <see cref="StoreType"/> MLflow's server-info reports for its file store.</summary>
    internal const string FileStoreType = "FileStore";

    /// <summary>The MLflow version the server reports on <c>GET /version</c>, for example <c>3.11.1</c>; <see langword="null"/> when it does not serve that endpoint.</summary>
    public string? Version { get; init; }
    /// <summary>The major version parsed from <see cref="Version"/>; <see langword="null"/> when unknown.</summary>
    public int? MajorVersion { get; init; }
    /// <summary>
    /// Whether the server has MLflow 3's logged models (<c>logged-models</c>, <c>runs/outputs</c>, metrics linked to a
    /// model): a version of 3 or more, or, with no version, an answer on <c>/api/3.0/mlflow/server-info</c>.
    /// </summary>
    public bool SupportsLoggedModels { get; init; }
    /// <summary>Whether <c>GET /api/3.0/mlflow/server-info</c> answered (MLflow 3 servers).</summary>
    public bool HasServerInfoEndpoint { get; init; }
    /// <summary>The backend store type from server-info (<c>SqlStore</c>, <c>FileStore</c>), when given.</summary>
    public string? StoreType { get; init; }
    /// <summary>
    /// Whether server-info names MLflow's file store (<see cref="StoreType"/> <c>FileStore</c>), which lacks what needs a
    /// SQL store (OTLP span logging, webhooks, server-side datasets); <see langword="false"/> when the server did not say.
    /// </summary>
    internal bool IsFileStore => string.Equals(StoreType, FileStoreType, StringComparison.Ordinal);
    /// <summary>Whether the server runs with workspaces (server-info), when given.</summary>
    public bool? WorkspacesEnabled { get; init; }
}
