namespace Mlflow.Client.Rest;

// Wire shapes of MLflow 3's evaluation dataset endpoints (/api/3.0/mlflow/datasets, service.proto and datasets.proto of
// MLflow 3.11.1). Tags, schema, profile and the records travel as JSON text inside the JSON body, as MLflow's own
// client sends them. Recorded exchanges: tests/Fixtures/rest-mlflow3-datasets.

internal sealed record EvaluationDatasetWire(
    string? DatasetId,
    string? Name,
    string? Tags,
    string? Schema,
    string? Profile,
    string? Digest,
    long? CreatedTime,
    long? LastUpdateTime,
    string? CreatedBy,
    string? LastUpdatedBy,
    IReadOnlyList<string>? ExperimentIds);

internal sealed record CreateDatasetRequest(string Name, IReadOnlyList<string>? ExperimentIds, string? Tags);
internal sealed record DatasetResponse(EvaluationDatasetWire? Dataset);
internal sealed record SearchDatasetsRequest(IReadOnlyList<string>? ExperimentIds, string? FilterString, int MaxResults, IReadOnlyList<string>? OrderBy, string? PageToken);
internal sealed record SearchDatasetsResponse(IReadOnlyList<EvaluationDatasetWire>? Datasets, string? NextPageToken);
internal sealed record UpsertDatasetRecordsRequest(string Records);
internal sealed record UpsertDatasetRecordsResponse(int? InsertedCount, int? UpdatedCount);
internal sealed record DatasetRecordsResponse(string? Records, string? NextPageToken);
internal sealed record DeleteDatasetRecordsRequest(IReadOnlyList<string> DatasetRecordIds);
internal sealed record DeleteDatasetRecordsResponse(int? DeletedCount);
