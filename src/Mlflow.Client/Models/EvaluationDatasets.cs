using System.Diagnostics;
using System.Text.Json.Nodes;

namespace Mlflow.Client;

/// <summary>
/// An evaluation dataset as an MLflow 3 server keeps it (<c>/api/3.0/mlflow/datasets</c>, SQL stores): its id
/// (<c>d-…</c>), name, tags, the schema and profile the server derives from its records, and the experiments it belongs to.
/// The records are read apart (<see cref="MlflowClient.GetEvaluationDatasetRecordsAsync"/>).
/// </summary>
[DebuggerDisplay("Evaluation dataset {Name} {DatasetId}")]
public sealed record EvaluationDatasetInfo
{
    /// <summary>The dataset id (<c>d-</c> and 32 hex digits).</summary>
    public string DatasetId { get; init => field = value ?? ""; } = "";

    /// <summary>The dataset name.</summary>
    public string Name { get; init => field = value ?? ""; } = "";

    /// <summary>The digest the server computes from the records (changes when they change).</summary>
    public string? Digest { get; init; }

    /// <summary>Tags, for example <c>stage</c>; the server adds <c>mlflow.user</c> when the client sent it.</summary>
    public IReadOnlyDictionary<string, string> Tags { get; init => field = value ?? Empty; } = Empty;

    /// <summary>The schema the server inferred from the records (JSON text: the fields of inputs, outputs and expectations), if any.</summary>
    public string? Schema { get; init; }

    /// <summary>The profile the server keeps (JSON text, for example <c>{"num_records": 3}</c>), if any.</summary>
    public string? Profile { get; init; }

    /// <summary>Creation time in milliseconds since the Unix epoch.</summary>
    public long? CreatedTimeMs { get; init; }

    /// <summary>Last update time in milliseconds since the Unix epoch.</summary>
    public long? LastUpdateTimeMs { get; init; }

    /// <summary>Who created it, when the server knows.</summary>
    public string? CreatedBy { get; init; }

    /// <summary>Who last changed it, when the server knows.</summary>
    public string? LastUpdatedBy { get; init; }

    /// <summary>The experiments it belongs to (given by create; a get or search answers without them).</summary>
    public IReadOnlyList<string> ExperimentIds { get; init => field = value ?? []; } = [];

    private static readonly IReadOnlyDictionary<string, string> Empty = new Dictionary<string, string>();
}

/// <summary>
/// One example of an evaluation dataset: the <see cref="Inputs"/> given to the application and the
/// <see cref="Expectations"/> its answer is judged against (MLflow's names: <c>expected_response</c>,
/// <c>expected_facts</c>, <c>guidelines</c>), with optional tags and where the example came from.
/// </summary>
/// <remarks>
/// The same shape in memory, in a JSON or JSONL file (<c>{"inputs": {...}, "expectations": {...}}</c> per record) and on
/// an MLflow 3 server, where the record id and times are filled in. A server keeps one record per distinct inputs: adding
/// a record whose inputs it holds updates that record.
/// </remarks>
[DebuggerDisplay("Record {RecordId}")]
public sealed record EvaluationRecord
{
    /// <summary>The inputs, by name (for example <c>question</c>); what the application is called with.</summary>
    public IReadOnlyDictionary<string, JsonNode?> Inputs { get; init => field = value ?? EmptyValues; } = EmptyValues;

    /// <summary>The expectations, by name (for example <c>expected_response</c>); empty when none.</summary>
    public IReadOnlyDictionary<string, JsonNode?> Expectations { get; init => field = value ?? EmptyValues; } = EmptyValues;

    /// <summary>Tags of the record; an evaluation sets them on the record's trace.</summary>
    public IReadOnlyDictionary<string, string> Tags { get; init => field = value ?? EmptyTags; } = EmptyTags;

    /// <summary>Where the record came from; when <see langword="null"/>, a server record is marked as MLflow's client marks it (a person's with expectations, code's without).</summary>
    public DatasetRecordSource? Source { get; init; }

    /// <summary>The record id on a server (<c>dr-…</c>); <see langword="null"/> for a record not read from one.</summary>
    public string? RecordId { get; init; }

    /// <summary>The dataset the record belongs to on a server.</summary>
    public string? DatasetId { get; init; }

    /// <summary>Creation time on the server, in milliseconds since the Unix epoch.</summary>
    public long? CreatedTimeMs { get; init; }

    /// <summary>Last update time on the server, in milliseconds since the Unix epoch.</summary>
    public long? LastUpdateTimeMs { get; init; }

    /// <summary>A record from inputs and expectations.</summary>
    /// <param name="inputs">The inputs, by name.</param>
    /// <param name="expectations">The expectations, by name, or <see langword="null"/>.</param>
    /// <returns>The record.</returns>
    public static EvaluationRecord Create(IReadOnlyDictionary<string, JsonNode?> inputs, IReadOnlyDictionary<string, JsonNode?>? expectations = null)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        return new EvaluationRecord { Inputs = inputs, Expectations = expectations ?? EmptyValues };
    }

    private static readonly IReadOnlyDictionary<string, JsonNode?> EmptyValues = new Dictionary<string, JsonNode?>();
    private static readonly IReadOnlyDictionary<string, string> EmptyTags = new Dictionary<string, string>();
}

/// <summary>Where a dataset record came from (MLflow's <c>DatasetRecordSource</c>).</summary>
/// <param name="Type">A trace, a person, a document or code.</param>
/// <param name="Data">Source-specific data (for a trace, <c>trace_id</c>), or <see langword="null"/>.</param>
public sealed record DatasetRecordSource(DatasetRecordSourceType Type, JsonObject? Data = null);

/// <summary>The kind of source of a dataset record (MLflow's <c>DatasetRecordSource.SourceType</c>).</summary>
public enum DatasetRecordSourceType
{
    /// <summary>Not given (<c>SOURCE_TYPE_UNSPECIFIED</c>).</summary>
    Unspecified = 0,
    /// <summary>Made from a trace (<c>TRACE</c>).</summary>
    Trace = 1,
    /// <summary>Written by a person (<c>HUMAN</c>).</summary>
    Human = 2,
    /// <summary>Taken from a document (<c>DOCUMENT</c>).</summary>
    Document = 3,
    /// <summary>Made by code (<c>CODE</c>).</summary>
    Code = 4,
}

/// <summary>What a search of evaluation datasets looks for (MLflow's <c>datasets/search</c>).</summary>
public sealed record EvaluationDatasetSearchOptions
{
    /// <summary>Filter expression, for example <c>name = 'capitals'</c> or <c>tags.stage = 'dev'</c>.</summary>
    public string? Filter { get; init; }

    /// <summary>Page size (default 100).</summary>
    public int MaxResults { get; init; } = 100;

    /// <summary>Order, for example <c>created_time DESC</c> (the server's default).</summary>
    public IReadOnlyList<string>? OrderBy { get; init; }
}

/// <summary>What adding records to a server dataset did.</summary>
/// <param name="Inserted">Records that were new.</param>
/// <param name="Updated">Records whose inputs the dataset held already, updated (expectations and tags merged).</param>
public sealed record DatasetUpsertResult(int Inserted, int Updated);
