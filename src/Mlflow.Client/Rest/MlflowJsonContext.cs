using System.Text.Json;
using System.Text.Json.Serialization;

namespace Mlflow.Client.Rest;

/// <summary>
/// Source-generated JSON metadata for the tracking wire format: snake_case names, unset values omitted,
/// non-finite doubles as the strings <c>"NaN"</c>/<c>"Infinity"</c>/<c>"-Infinity"</c> (what the server sends and
/// expects), int64 read from numbers or strings.
/// </summary>
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals | JsonNumberHandling.AllowReadingFromString,
    PropertyNameCaseInsensitive = false,
    AllowTrailingCommas = false)]
[JsonSerializable(typeof(CreateExperimentRequest))]
[JsonSerializable(typeof(CreateExperimentResponse))]
[JsonSerializable(typeof(ExperimentResponse))]
[JsonSerializable(typeof(SearchExperimentsRequest))]
[JsonSerializable(typeof(SearchExperimentsResponse))]
[JsonSerializable(typeof(ExperimentIdRequest))]
[JsonSerializable(typeof(UpdateExperimentRequest))]
[JsonSerializable(typeof(SetExperimentTagRequest))]
[JsonSerializable(typeof(DeleteExperimentTagRequest))]
[JsonSerializable(typeof(CreateRunRequest))]
[JsonSerializable(typeof(RunResponse))]
[JsonSerializable(typeof(UpdateRunRequest))]
[JsonSerializable(typeof(UpdateRunResponse))]
[JsonSerializable(typeof(RunIdRequest))]
[JsonSerializable(typeof(SearchRunsRequest))]
[JsonSerializable(typeof(SearchRunsResponse))]
[JsonSerializable(typeof(SetTagRequest))]
[JsonSerializable(typeof(DeleteTagRequest))]
[JsonSerializable(typeof(LogMetricRequest))]
[JsonSerializable(typeof(LogParamRequest))]
[JsonSerializable(typeof(LogBatchRequest))]
[JsonSerializable(typeof(LogEntryBatchRequest))]
[JsonSerializable(typeof(LogInputsRequest))]
[JsonSerializable(typeof(LogModelRequest))]
[JsonSerializable(typeof(MetricHistoryResponse))]
[JsonSerializable(typeof(ListArtifactsResponse))]
[JsonSerializable(typeof(CreateLoggedModelRequest))]
[JsonSerializable(typeof(LoggedModelResponse))]
[JsonSerializable(typeof(FinalizeLoggedModelRequest))]
[JsonSerializable(typeof(SearchLoggedModelsRequest))]
[JsonSerializable(typeof(SearchLoggedModelsResponse))]
[JsonSerializable(typeof(SetLoggedModelTagsRequest))]
[JsonSerializable(typeof(LogLoggedModelParamsRequest))]
[JsonSerializable(typeof(LogOutputsRequest))]
[JsonSerializable(typeof(ListLoggedModelArtifactsResponse))]
[JsonSerializable(typeof(ServerInfoResponse))]
[JsonSerializable(typeof(StartTraceRequest))]
[JsonSerializable(typeof(TraceResponse))]
[JsonSerializable(typeof(SearchTracesRequest))]
[JsonSerializable(typeof(SearchTracesResponse))]
[JsonSerializable(typeof(DeleteTracesRequest))]
[JsonSerializable(typeof(DeleteTracesResponse))]
[JsonSerializable(typeof(SetTraceTagRequest))]
[JsonSerializable(typeof(DeleteTraceTagRequest))]
[JsonSerializable(typeof(LinkTracesToRunRequest))]
[JsonSerializable(typeof(CreateAssessmentRequest))]
[JsonSerializable(typeof(AssessmentResponse))]
[JsonSerializable(typeof(UpdateAssessmentRequest))]
[JsonSerializable(typeof(CreateDatasetRequest))]
[JsonSerializable(typeof(DatasetResponse))]
[JsonSerializable(typeof(SearchDatasetsRequest))]
[JsonSerializable(typeof(SearchDatasetsResponse))]
[JsonSerializable(typeof(UpsertDatasetRecordsRequest))]
[JsonSerializable(typeof(UpsertDatasetRecordsResponse))]
[JsonSerializable(typeof(DatasetRecordsResponse))]
[JsonSerializable(typeof(DeleteDatasetRecordsRequest))]
[JsonSerializable(typeof(DeleteDatasetRecordsResponse))]
[JsonSerializable(typeof(EmptyResponse))]
[JsonSerializable(typeof(ErrorResponse))]
internal sealed partial class MlflowJsonContext : JsonSerializerContext
{
    /// <summary>Options for Refit and direct use: every context of the SDK combined.</summary>
    internal static JsonSerializerOptions WireOptions => LazyWireOptions.Value;

    private static readonly Lazy<JsonSerializerOptions> LazyWireOptions = new(CreateWireOptions);

    private static JsonSerializerOptions CreateWireOptions()
    {
        var options = new JsonSerializerOptions(Default.Options)
        {
            TypeInfoResolver = System.Text.Json.Serialization.Metadata.JsonTypeInfoResolver.Combine(Default, MlflowRegistryJsonContext.Default, MlflowWebhookJsonContext.Default),
        };
        options.MakeReadOnly();
        return options;
    }
}
