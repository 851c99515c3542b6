using System.Runtime.CompilerServices;
using Mlflow.Client.Rest;

namespace Mlflow.Client;

// MLflow 3's evaluation datasets (/api/3.0/mlflow/datasets): SQL stores only. MLflow 3.11.1's file store answers every
// call with FEATURE_DISABLED, which reaches the caller as the server's own message; a 2.x server has no such route.
public partial class MlflowClient
{
    private const int DatasetRecordsPageSize = 1000;

    /// <summary>Creates an evaluation dataset (<c>POST /api/3.0/mlflow/datasets/create</c>; MLflow 3 servers with a SQL store).</summary>
    /// <param name="name">The dataset name.</param>
    /// <param name="experimentIds">The experiments it belongs to; none leaves it to the server (MLflow's default experiment).</param>
    /// <param name="tags">Tags, or <see langword="null"/>.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <returns>The dataset, with its id.</returns>
    /// <exception cref="MlflowException">The server refused (its file store keeps no datasets), or it is not an MLflow 3 server.</exception>
    public virtual async Task<EvaluationDatasetInfo> CreateEvaluationDatasetAsync(string name, IEnumerable<string>? experimentIds = null, IReadOnlyDictionary<string, string>? tags = null, CancellationToken cancellationToken = default)
    {
        Require(name, nameof(name));
        var ids = experimentIds?.ToList();
        if (ids is not null && ids.Any(string.IsNullOrEmpty))
        {
            throw new ArgumentException("An experiment id is empty.", nameof(experimentIds));
        }

        foreach (var (key, value) in tags ?? new Dictionary<string, string>())
        {
            RefuseLoneSurrogates(key, value, "dataset tag");
        }

        var request = new CreateDatasetRequest(name, ids is { Count: > 0 } ? ids : null, DatasetWireMapping.TagsToJson(tags));
        var response = await DatasetCallAsync(() => _tracking.CreateDatasetAsync(request, cancellationToken), cancellationToken).ConfigureAwait(false);
        return DatasetWireMapping.FromWire(response.Dataset ?? throw new MlflowException("datasets create answered without a dataset."));
    }

    /// <summary>Reads an evaluation dataset's info (<c>GET /api/3.0/mlflow/datasets/{dataset_id}</c>), without its records.</summary>
    /// <param name="datasetId">The dataset id (<c>d-…</c>).</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <returns>The dataset.</returns>
    /// <exception cref="MlflowException">With <see cref="MlflowErrorCode.ResourceDoesNotExist"/> when there is no such dataset.</exception>
    public virtual async Task<EvaluationDatasetInfo> GetEvaluationDatasetAsync(string datasetId, CancellationToken cancellationToken = default)
    {
        Require(datasetId, nameof(datasetId));
        var response = await DatasetCallAsync(() => _tracking.GetDatasetAsync(datasetId, cancellationToken), cancellationToken).ConfigureAwait(false);
        return DatasetWireMapping.FromWire(response.Dataset ?? throw new MlflowException("datasets get answered without a dataset."));
    }

    /// <summary>Searches evaluation datasets, one page (<c>POST /api/3.0/mlflow/datasets/search</c>).</summary>
    /// <param name="experimentIds">Only datasets of these experiments; <see langword="null"/> or empty for all.</param>
    /// <param name="options">Filter, order and page size.</param>
    /// <param name="pageToken">The token of the page to read; <see langword="null"/> for the first.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <returns>One page of datasets (without their records).</returns>
    /// <exception cref="ArgumentOutOfRangeException">The page size is below 1.</exception>
    public virtual async Task<Page<EvaluationDatasetInfo>> SearchEvaluationDatasetsAsync(IEnumerable<string>? experimentIds = null, EvaluationDatasetSearchOptions? options = null, string? pageToken = null, CancellationToken cancellationToken = default)
    {
        options ??= new EvaluationDatasetSearchOptions();
        if (options.MaxResults < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(options), options.MaxResults, "A dataset search page holds at least one dataset.");
        }

        var ids = experimentIds?.ToList();
        var request = new SearchDatasetsRequest(
            ids is { Count: > 0 } ? ids : null,
            NullIfEmpty(options.Filter),
            options.MaxResults,
            options.OrderBy is { Count: > 0 } o ? o : null,
            NullIfEmpty(pageToken));
        var response = await DatasetCallAsync(() => _tracking.SearchDatasetsAsync(request, cancellationToken), cancellationToken).ConfigureAwait(false);
        return new Page<EvaluationDatasetInfo>((response.Datasets ?? []).Select(DatasetWireMapping.FromWire).ToList(), NullIfEmpty(response.NextPageToken));
    }

    /// <summary>Deletes an evaluation dataset with its records (<c>DELETE /api/3.0/mlflow/datasets/{dataset_id}</c>).</summary>
    /// <param name="datasetId">The dataset id.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <returns>A task that completes when the server confirmed.</returns>
    public virtual Task DeleteEvaluationDatasetAsync(string datasetId, CancellationToken cancellationToken = default)
    {
        Require(datasetId, nameof(datasetId));
        return DatasetCallAsync(async () =>
        {
            await _tracking.DeleteDatasetAsync(datasetId, cancellationToken).ConfigureAwait(false);
            return true;
        }, cancellationToken);
    }

    /// <summary>
    /// Adds records to an evaluation dataset (<c>POST /api/3.0/mlflow/datasets/{dataset_id}/records</c>). A record whose
    /// inputs the dataset holds already updates that record (its expectations and tags are merged), as MLflow's
    /// <c>merge_records</c> does; a record without a source is marked as MLflow's client marks it.
    /// </summary>
    /// <param name="datasetId">The dataset id.</param>
    /// <param name="records">The records (at least one).</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <returns>How many records were new and how many updated.</returns>
    /// <exception cref="ArgumentException">No records, or one without inputs.</exception>
    public virtual async Task<DatasetUpsertResult> UpsertEvaluationDatasetRecordsAsync(string datasetId, IEnumerable<EvaluationRecord> records, CancellationToken cancellationToken = default)
    {
        Require(datasetId, nameof(datasetId));
        ArgumentNullException.ThrowIfNull(records);
        var list = records.ToList();
        if (list.Count == 0 || list.Any(r => r is null || r.Inputs.Count == 0))
        {
            throw new ArgumentException("Give at least one record, each with inputs.", nameof(records));
        }

        var request = new UpsertDatasetRecordsRequest(DatasetWireMapping.RecordsToJson(list));
        var response = await DatasetCallAsync(() => _tracking.UpsertDatasetRecordsAsync(datasetId, request, cancellationToken), cancellationToken).ConfigureAwait(false);
        return new DatasetUpsertResult(response.InsertedCount ?? 0, response.UpdatedCount ?? 0);
    }

    /// <summary>Reads every record of an evaluation dataset (<c>GET /api/3.0/mlflow/datasets/{dataset_id}/records</c>), following pages to the end.</summary>
    /// <param name="datasetId">The dataset id.</param>
    /// <param name="cancellationToken">Cancels the enumeration.</param>
    /// <returns>The records, with their ids and times.</returns>
    public virtual async IAsyncEnumerable<EvaluationRecord> GetEvaluationDatasetRecordsAsync(string datasetId, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        Require(datasetId, nameof(datasetId));
        string? token = null;
        do
        {
            var page = await DatasetCallAsync(() => _tracking.GetDatasetRecordsAsync(datasetId, DatasetRecordsPageSize, token, cancellationToken), cancellationToken).ConfigureAwait(false);
            foreach (var record in DatasetWireMapping.ParseRecords(page.Records))
            {
                yield return record;
            }

            token = NextToken(token, NullIfEmpty(page.NextPageToken), "datasets/records");
        }
        while (token is not null);
    }

    /// <summary>Deletes records of an evaluation dataset by id (<c>DELETE /api/3.0/mlflow/datasets/{dataset_id}/records</c>).</summary>
    /// <param name="datasetId">The dataset id.</param>
    /// <param name="recordIds">The record ids (<c>dr-…</c>, at least one).</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <returns>How many records the server deleted.</returns>
    public virtual async Task<int> DeleteEvaluationDatasetRecordsAsync(string datasetId, IEnumerable<string> recordIds, CancellationToken cancellationToken = default)
    {
        Require(datasetId, nameof(datasetId));
        ArgumentNullException.ThrowIfNull(recordIds);
        var ids = recordIds.ToList();
        if (ids.Count == 0 || ids.Any(string.IsNullOrEmpty))
        {
            throw new ArgumentException("Give at least one record id, none empty.", nameof(recordIds));
        }

        var response = await DatasetCallAsync(() => _tracking.DeleteDatasetRecordsAsync(datasetId, new DeleteDatasetRecordsRequest(ids), cancellationToken), cancellationToken).ConfigureAwait(false);
        return response.DeletedCount ?? 0;
    }

    /// <inheritdoc cref="Mlflow3CallAsync{T}"/>
    private Task<T> DatasetCallAsync<T>(Func<Task<T>> call, CancellationToken cancellationToken)
        => Mlflow3CallAsync(call, "Evaluation datasets", "Upgrade the server (with a SQL store: sqlite, PostgreSQL, MySQL) to keep datasets there, or keep the dataset in a file.", cancellationToken);
}
