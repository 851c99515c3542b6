using Refit;

namespace Mlflow.Client.Rest;

/// <summary>Refit description of the tracking endpoints (experiments, runs, metrics, artifact listing). Paths are relative to the tracking URI.</summary>
internal interface ITrackingApi
{
    // Experiments
    [Post("/api/2.0/mlflow/experiments/create")]
    Task<CreateExperimentResponse> CreateExperimentAsync([Body] CreateExperimentRequest request, CancellationToken cancellationToken);

    [Get("/api/2.0/mlflow/experiments/get")]
    Task<ExperimentResponse> GetExperimentAsync([AliasAs("experiment_id")] string experimentId, CancellationToken cancellationToken);

    [Get("/api/2.0/mlflow/experiments/get-by-name")]
    Task<ExperimentResponse> GetExperimentByNameAsync([AliasAs("experiment_name")] string experimentName, CancellationToken cancellationToken);

    [Post("/api/2.0/mlflow/experiments/search")]
    Task<SearchExperimentsResponse> SearchExperimentsAsync([Body] SearchExperimentsRequest request, CancellationToken cancellationToken);

    [Post("/api/2.0/mlflow/experiments/update")]
    Task UpdateExperimentAsync([Body] UpdateExperimentRequest request, CancellationToken cancellationToken);

    [Post("/api/2.0/mlflow/experiments/delete")]
    Task DeleteExperimentAsync([Body] ExperimentIdRequest request, CancellationToken cancellationToken);

    [Post("/api/2.0/mlflow/experiments/restore")]
    Task RestoreExperimentAsync([Body] ExperimentIdRequest request, CancellationToken cancellationToken);

    [Post("/api/2.0/mlflow/experiments/set-experiment-tag")]
    Task SetExperimentTagAsync([Body] SetExperimentTagRequest request, CancellationToken cancellationToken);

    [Post("/api/2.0/mlflow/experiments/delete-experiment-tag")]
    Task DeleteExperimentTagAsync([Body] DeleteExperimentTagRequest request, CancellationToken cancellationToken);

    // Runs
    [Post("/api/2.0/mlflow/runs/create")]
    Task<RunResponse> CreateRunAsync([Body] CreateRunRequest request, CancellationToken cancellationToken);

    [Post("/api/2.0/mlflow/runs/update")]
    Task<UpdateRunResponse> UpdateRunAsync([Body] UpdateRunRequest request, CancellationToken cancellationToken);

    [Post("/api/2.0/mlflow/runs/delete")]
    Task DeleteRunAsync([Body] RunIdRequest request, CancellationToken cancellationToken);

    [Post("/api/2.0/mlflow/runs/restore")]
    Task RestoreRunAsync([Body] RunIdRequest request, CancellationToken cancellationToken);

    [Get("/api/2.0/mlflow/runs/get")]
    Task<RunResponse> GetRunAsync([AliasAs("run_id")] string runId, CancellationToken cancellationToken);

    [Post("/api/2.0/mlflow/runs/search")]
    Task<SearchRunsResponse> SearchRunsAsync([Body] SearchRunsRequest request, CancellationToken cancellationToken);

    [Post("/api/2.0/mlflow/runs/set-tag")]
    Task SetTagAsync([Body] SetTagRequest request, CancellationToken cancellationToken);

    [Post("/api/2.0/mlflow/runs/delete-tag")]
    Task DeleteTagAsync([Body] DeleteTagRequest request, CancellationToken cancellationToken);

    [Post("/api/2.0/mlflow/runs/log-metric")]
    Task LogMetricAsync([Body] LogMetricRequest request, CancellationToken cancellationToken);

    [Post("/api/2.0/mlflow/runs/log-parameter")]
    Task LogParamAsync([Body] LogParamRequest request, CancellationToken cancellationToken);

    [Post("/api/2.0/mlflow/runs/log-batch")]
    Task LogBatchAsync([Body] LogBatchRequest request, CancellationToken cancellationToken);

    /// <summary>The same endpoint, with the body written from the sender's queued entries.</summary>
    [Post("/api/2.0/mlflow/runs/log-batch")]
    Task LogEntryBatchAsync([Body] LogEntryBatchRequest request, CancellationToken cancellationToken);

    [Post("/api/2.0/mlflow/runs/log-inputs")]
    Task LogInputsAsync([Body] LogInputsRequest request, CancellationToken cancellationToken);

    [Post("/api/2.0/mlflow/runs/log-model")]
    Task LogModelAsync([Body] LogModelRequest request, CancellationToken cancellationToken);

    // Metrics
    [Get("/api/2.0/mlflow/metrics/get-history")]
    Task<MetricHistoryResponse> GetMetricHistoryAsync(
        [AliasAs("run_id")] string runId,
        [AliasAs("metric_key")] string metricKey,
        [AliasAs("max_results")] int? maxResults,
        [AliasAs("page_token")] string? pageToken,
        CancellationToken cancellationToken);

    [Get("/api/2.0/mlflow/metrics/get-history-bulk-interval")]
    Task<MetricHistoryResponse> GetMetricHistoryBulkIntervalAsync(
        [AliasAs("run_ids")][Query(CollectionFormat.Multi)] IEnumerable<string> runIds,
        [AliasAs("metric_key")] string metricKey,
        [AliasAs("start_step")] long? startStep,
        [AliasAs("end_step")] long? endStep,
        [AliasAs("max_results")] int? maxResults,
        CancellationToken cancellationToken);

    // Artifact listing through the tracking API
    [Get("/api/2.0/mlflow/artifacts/list")]
    Task<ListArtifactsResponse> ListArtifactsAsync(
        [AliasAs("run_id")] string runId,
        [AliasAs("path")] string? path,
        [AliasAs("page_token")] string? pageToken,
        CancellationToken cancellationToken);

    // Logged models and run outputs (MLflow 3). The model id goes into the path escaped by Refit.
    [Post("/api/2.0/mlflow/logged-models")]
    Task<LoggedModelResponse> CreateLoggedModelAsync([Body] CreateLoggedModelRequest request, CancellationToken cancellationToken);

    [Get("/api/2.0/mlflow/logged-models/{modelId}")]
    Task<LoggedModelResponse> GetLoggedModelAsync(string modelId, CancellationToken cancellationToken);

    [Patch("/api/2.0/mlflow/logged-models/{modelId}")]
    Task<LoggedModelResponse> FinalizeLoggedModelAsync(string modelId, [Body] FinalizeLoggedModelRequest request, CancellationToken cancellationToken);

    [Delete("/api/2.0/mlflow/logged-models/{modelId}")]
    Task DeleteLoggedModelAsync(string modelId, CancellationToken cancellationToken);

    [Post("/api/2.0/mlflow/logged-models/search")]
    Task<SearchLoggedModelsResponse> SearchLoggedModelsAsync([Body] SearchLoggedModelsRequest request, CancellationToken cancellationToken);

    [Patch("/api/2.0/mlflow/logged-models/{modelId}/tags")]
    Task SetLoggedModelTagsAsync(string modelId, [Body] SetLoggedModelTagsRequest request, CancellationToken cancellationToken);

    [Delete("/api/2.0/mlflow/logged-models/{modelId}/tags/{tagKey}")]
    Task DeleteLoggedModelTagAsync(string modelId, string tagKey, CancellationToken cancellationToken);

    [Post("/api/2.0/mlflow/logged-models/{modelId}/params")]
    Task LogLoggedModelParamsAsync(string modelId, [Body] LogLoggedModelParamsRequest request, CancellationToken cancellationToken);

    [Get("/api/2.0/mlflow/logged-models/{modelId}/artifacts/directories")]
    Task<ListLoggedModelArtifactsResponse> ListLoggedModelArtifactsAsync(
        string modelId,
        [AliasAs("artifact_directory_path")] string? artifactDirectoryPath,
        [AliasAs("page_token")] string? pageToken,
        CancellationToken cancellationToken);

    [Post("/api/2.0/mlflow/runs/outputs")]
    Task LogOutputsAsync([Body] LogOutputsRequest request, CancellationToken cancellationToken);

    // Traces and assessments (MLflow 3). Paths as MLflow's own client uses them: v3 for trace info and assessments,
    // v2 for tags, delete-traces and link-to-run. Trace and assessment ids go into the path escaped by Refit.
    [Post("/api/3.0/mlflow/traces")]
    Task<TraceResponse> StartTraceV3Async([Body] StartTraceRequest request, CancellationToken cancellationToken);

    [Get("/api/3.0/mlflow/traces/{traceId}")]
    Task<TraceResponse> GetTraceInfoV3Async(string traceId, CancellationToken cancellationToken);

    [Post("/api/3.0/mlflow/traces/search")]
    Task<SearchTracesResponse> SearchTracesV3Async([Body] SearchTracesRequest request, CancellationToken cancellationToken);

    [Post("/api/2.0/mlflow/traces/delete-traces")]
    Task<DeleteTracesResponse> DeleteTracesAsync([Body] DeleteTracesRequest request, CancellationToken cancellationToken);

    [Patch("/api/2.0/mlflow/traces/{traceId}/tags")]
    Task SetTraceTagAsync(string traceId, [Body] SetTraceTagRequest request, CancellationToken cancellationToken);

    [Delete("/api/2.0/mlflow/traces/{traceId}/tags")]
    Task DeleteTraceTagAsync(string traceId, [Body] DeleteTraceTagRequest request, CancellationToken cancellationToken);

    [Post("/api/2.0/mlflow/traces/link-to-run")]
    Task LinkTracesToRunAsync([Body] LinkTracesToRunRequest request, CancellationToken cancellationToken);

    [Post("/api/3.0/mlflow/traces/{traceId}/assessments")]
    Task<AssessmentResponse> CreateAssessmentAsync(string traceId, [Body] CreateAssessmentRequest request, CancellationToken cancellationToken);

    [Get("/api/3.0/mlflow/traces/{traceId}/assessments/{assessmentId}")]
    Task<AssessmentResponse> GetAssessmentAsync(string traceId, string assessmentId, CancellationToken cancellationToken);

    [Patch("/api/3.0/mlflow/traces/{traceId}/assessments/{assessmentId}")]
    Task<AssessmentResponse> UpdateAssessmentAsync(string traceId, string assessmentId, [Body] UpdateAssessmentRequest request, CancellationToken cancellationToken);

    [Delete("/api/3.0/mlflow/traces/{traceId}/assessments/{assessmentId}")]
    Task DeleteAssessmentAsync(string traceId, string assessmentId, CancellationToken cancellationToken);

    // Evaluation datasets (MLflow 3, SQL stores only: 3.11.1's file store answers FEATURE_DISABLED). v3 paths, as
    // MLflow's own client uses them; the dataset id goes into the path escaped by Refit.
    [Post("/api/3.0/mlflow/datasets/create")]
    Task<DatasetResponse> CreateDatasetAsync([Body] CreateDatasetRequest request, CancellationToken cancellationToken);

    [Get("/api/3.0/mlflow/datasets/{datasetId}")]
    Task<DatasetResponse> GetDatasetAsync(string datasetId, CancellationToken cancellationToken);

    [Delete("/api/3.0/mlflow/datasets/{datasetId}")]
    Task DeleteDatasetAsync(string datasetId, CancellationToken cancellationToken);

    [Post("/api/3.0/mlflow/datasets/search")]
    Task<SearchDatasetsResponse> SearchDatasetsAsync([Body] SearchDatasetsRequest request, CancellationToken cancellationToken);

    [Post("/api/3.0/mlflow/datasets/{datasetId}/records")]
    Task<UpsertDatasetRecordsResponse> UpsertDatasetRecordsAsync(string datasetId, [Body] UpsertDatasetRecordsRequest request, CancellationToken cancellationToken);

    [Get("/api/3.0/mlflow/datasets/{datasetId}/records")]
    Task<DatasetRecordsResponse> GetDatasetRecordsAsync(
        string datasetId,
        [AliasAs("max_results")] int? maxResults,
        [AliasAs("page_token")] string? pageToken,
        CancellationToken cancellationToken);

    [Delete("/api/3.0/mlflow/datasets/{datasetId}/records")]
    Task<DeleteDatasetRecordsResponse> DeleteDatasetRecordsAsync(string datasetId, [Body] DeleteDatasetRecordsRequest request, CancellationToken cancellationToken);
}
