using System.Diagnostics;

namespace Mlflow.Client;

/// <summary>A key/value pair: a run tag, an experiment tag, a registry tag or a dataset input tag.</summary>
/// <param name="Key">The tag key.</param>
/// <param name="Value">The tag value.</param>
[DebuggerDisplay("{Key} = {Value}")]
public sealed record Tag(string Key, string Value = "");

/// <summary>A run parameter: written once, never changed.</summary>
/// <param name="Key">The parameter key.</param>
/// <param name="Value">The parameter value as text.</param>
[DebuggerDisplay("{Key} = {Value}")]
public sealed record Param(string Key, string Value = "");

/// <summary>One point of a metric.</summary>
/// <param name="Key">The metric key.</param>
/// <param name="Value">The value; NaN and ±Infinity are valid.</param>
/// <param name="Timestamp">Milliseconds since the Unix epoch.</param>
/// <param name="Step">The step (0 when not given).</param>
[DebuggerDisplay("{Key}[{Step}] = {Value}")]
public sealed record Metric(string Key, double Value, long Timestamp, long Step = 0)
{
    /// <summary>The run the point belongs to, set only by bulk history queries and in a logged model's metrics.</summary>
    public string? RunId { get; init; }

    /// <summary>
    /// The logged model the point was measured on (MLflow 3: <c>model_id</c>), so the metric appears on the model.
    /// <see langword="null"/> sends nothing, which is what a 2.x server expects.
    /// </summary>
    public string? ModelId { get; init; }

    /// <summary>The name of the dataset the point was measured on (MLflow 3: <c>dataset_name</c>); <see langword="null"/> sends nothing.</summary>
    public string? DatasetName { get; init; }

    /// <summary>The digest of that dataset (MLflow 3: <c>dataset_digest</c>); <see langword="null"/> sends nothing.</summary>
    public string? DatasetDigest { get; init; }
}

/// <summary>An experiment: a named group of runs.</summary>
[DebuggerDisplay("Experiment {ExperimentId} {Name}")]
public sealed record Experiment
{
    /// <summary>The experiment id (a string: numeric on SQL stores, 18 digits on file stores).</summary>
    public string ExperimentId { get; init => field = value ?? ""; } = "";
    /// <summary>The unique name.</summary>
    public string Name { get; init => field = value ?? ""; } = "";
    /// <summary>Where runs of this experiment store their artifacts.</summary>
    public string? ArtifactLocation { get; init; }
    /// <summary>Whether the experiment is active or deleted.</summary>
    public LifecycleStage LifecycleStage { get; init; }
    /// <summary>Creation time in milliseconds since the Unix epoch.</summary>
    public long? CreationTime { get; init; }
    /// <summary>Last update time in milliseconds since the Unix epoch.</summary>
    public long? LastUpdateTime { get; init; }
    /// <summary>Experiment tags.</summary>
    public IReadOnlyList<Tag> Tags { get; init => field = value ?? []; } = [];
}

/// <summary>Metadata of a run.</summary>
[DebuggerDisplay("Run {RunId} {RunName} {Status}")]
public sealed record RunInfo
{
    /// <summary>The run id (32 lowercase hex characters on MLflow's own stores).</summary>
    public string RunId { get; init => field = value ?? ""; } = "";
    /// <summary>The run's display name.</summary>
    public string? RunName { get; init; }
    /// <summary>The experiment the run belongs to.</summary>
    public string ExperimentId { get; init => field = value ?? ""; } = "";
    /// <summary>The user who created the run.</summary>
    public string? UserId { get; init; }
    /// <summary>The run status.</summary>
    public RunStatus Status { get; init; } = RunStatus.Running;
    /// <summary>Start time in milliseconds since the Unix epoch.</summary>
    public long? StartTime { get; init; }
    /// <summary>End time in milliseconds since the Unix epoch; absent while running.</summary>
    public long? EndTime { get; init; }
    /// <summary>Root URI of the run's artifacts.</summary>
    public string? ArtifactUri { get; init; }
    /// <summary>Whether the run is active or deleted.</summary>
    public LifecycleStage LifecycleStage { get; init; }
}

/// <summary>The logged data of a run. <see cref="Metrics"/> holds the latest value per key.</summary>
public sealed record RunData
{
    /// <summary>Latest value of each metric.</summary>
    public IReadOnlyList<Metric> Metrics { get; init => field = value ?? []; } = [];
    /// <summary>Parameters.</summary>
    public IReadOnlyList<Param> Params { get; init => field = value ?? []; } = [];
    /// <summary>Tags, including system tags (<c>mlflow.*</c>).</summary>
    public IReadOnlyList<Tag> Tags { get; init => field = value ?? []; } = [];
}

/// <summary>A run: its metadata, data, inputs and outputs.</summary>
[DebuggerDisplay("Run {Info.RunId}")]
public sealed record Run
{
    /// <summary>Run metadata.</summary>
    public RunInfo Info { get; init => field = value ?? new(); } = new();
    /// <summary>Logged params, latest metrics and tags.</summary>
    public RunData Data { get; init => field = value ?? new(); } = new();
    /// <summary>Dataset and model inputs.</summary>
    public RunInputs Inputs { get; init => field = value ?? new(); } = new();
    /// <summary>The logged models the run produced (MLflow 3; empty on a 2.x server).</summary>
    public RunOutputs Outputs { get; init => field = value ?? new(); } = new();
}

/// <summary>The inputs of a run.</summary>
public sealed record RunInputs
{
    /// <summary>Datasets used by the run.</summary>
    public IReadOnlyList<DatasetInput> DatasetInputs { get; init => field = value ?? []; } = [];
    /// <summary>Logged models used by the run, for example the model an evaluation run scored (MLflow 3: <c>model_inputs</c>).</summary>
    public IReadOnlyList<ModelInput> ModelInputs { get; init => field = value ?? []; } = [];
}

/// <summary>The outputs of a run (MLflow 3).</summary>
public sealed record RunOutputs
{
    /// <summary>Logged models the run produced (<c>model_outputs</c>).</summary>
    public IReadOnlyList<ModelOutput> ModelOutputs { get; init => field = value ?? []; } = [];
}

/// <summary>A logged model used by a run (MLflow 3).</summary>
/// <param name="ModelId">The logged model's id, <c>m-</c> followed by 32 hex characters on MLflow's own stores.</param>
[DebuggerDisplay("input {ModelId}")]
public sealed record ModelInput(string ModelId);

/// <summary>A logged model produced by a run (MLflow 3), at the step it was produced.</summary>
/// <param name="ModelId">The logged model's id, <c>m-</c> followed by 32 hex characters on MLflow's own stores.</param>
/// <param name="Step">The step at which the run produced it (0 when not given).</param>
[DebuggerDisplay("output {ModelId} @ {Step}")]
public sealed record ModelOutput(string ModelId, long Step = 0);

/// <summary>A dataset used by a run, with input tags such as <c>mlflow.data.context</c>.</summary>
public sealed record DatasetInput
{
    /// <summary>Input tags.</summary>
    public IReadOnlyList<Tag> Tags { get; init => field = value ?? []; } = [];
    /// <summary>The dataset.</summary>
    public Dataset Dataset { get; init => field = value ?? new(); } = new();
}

/// <summary>Dataset metadata as MLflow records it.</summary>
public sealed record Dataset
{
    /// <summary>Name (at most 500 characters).</summary>
    public string Name { get; init => field = value ?? ""; } = "";
    /// <summary>Digest (at most 36 characters).</summary>
    public string Digest { get; init => field = value ?? ""; } = "";
    /// <summary>Source type, for example <c>local</c> or <c>http</c>.</summary>
    public string SourceType { get; init => field = value ?? ""; } = "";
    /// <summary>Source as JSON text, for example <c>{"uri":"/data/train.csv"}</c>.</summary>
    public string Source { get; init => field = value ?? ""; } = "";
    /// <summary>Schema as JSON text.</summary>
    public string? Schema { get; init; }
    /// <summary>Profile as JSON text.</summary>
    public string? Profile { get; init; }
}

/// <summary>A file or folder in an artifact listing.</summary>
/// <param name="Path">Path relative to the listed root.</param>
/// <param name="IsDir">Whether it is a folder.</param>
/// <param name="FileSize">Size in bytes (absent for folders).</param>
public sealed record ArtifactFileInfo(string Path, bool IsDir = false, long? FileSize = null);
