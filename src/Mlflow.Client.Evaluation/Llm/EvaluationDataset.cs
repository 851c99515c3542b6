using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Mlflow.Client.Rest;

namespace Mlflow.Client.Evaluation.Llm;

/// <summary>
/// The examples an LLM evaluation runs over: <see cref="EvaluationRecord"/>s (inputs, expectations, tags), from a list in
/// memory, a JSON or JSONL file, or an MLflow 3 server's evaluation dataset.
/// </summary>
public sealed class EvaluationDataset
{
    private const string ServerSourceType = "mlflow_evaluation_dataset";

    private EvaluationDataset(string name, IReadOnlyList<EvaluationRecord> records, string? datasetId, string? digest)
    {
        Name = name;
        Records = records;
        DatasetId = datasetId;
        Digest = digest ?? ComputeDigest(records);
    }

    /// <summary>The dataset's name (the run input's name).</summary>
    public string Name { get; }

    /// <summary>The records, in order.</summary>
    public IReadOnlyList<EvaluationRecord> Records { get; }

    /// <summary>The server dataset's id (<c>d-…</c>) when it was read from or saved to a server; else <see langword="null"/>.</summary>
    public string? DatasetId { get; }

    /// <summary>8 hex characters identifying the records (the server's digest for a server dataset).</summary>
    public string Digest { get; }

    /// <summary>A dataset from records in memory.</summary>
    /// <param name="records">The records; each needs inputs.</param>
    /// <param name="name">The name the run input gets.</param>
    /// <returns>The dataset.</returns>
    /// <exception cref="ArgumentException">No records, or one without inputs.</exception>
    public static EvaluationDataset FromRecords(IEnumerable<EvaluationRecord> records, string name = "dataset")
    {
        ArgumentNullException.ThrowIfNull(records);
        ArgumentException.ThrowIfNullOrEmpty(name);
        var list = records.ToList();
        if (list.Count == 0)
        {
            throw new ArgumentException("The dataset has no records.", nameof(records));
        }

        var index = list.FindIndex(r => r is null || r.Inputs.Count == 0);
        if (index >= 0)
        {
            throw new ArgumentException($"Record {index} has no inputs.", nameof(records));
        }

        return new EvaluationDataset(name, list, null, null);
    }

    /// <summary>
    /// Reads records from a file: a JSON list of records, or JSON Lines (one record per line, blank lines skipped). A record
    /// is an object with <c>inputs</c> (an object) and optionally <c>expectations</c>, <c>tags</c> and <c>source</c>
    /// (<c>{"source_type": "HUMAN", "source_data": {...}}</c>), as MLflow writes dataset records.
    /// </summary>
    /// <param name="path">The file (<c>.json</c> or <c>.jsonl</c>; the content decides).</param>
    /// <param name="name">The dataset's name; the file name without extension when <see langword="null"/>.</param>
    /// <returns>The dataset.</returns>
    /// <exception cref="FormatException">The file is not a list of records or JSON Lines of records (the message names the line or index).</exception>
    public static EvaluationDataset FromFile(string path, string? name = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        var text = File.ReadAllText(path, Encoding.UTF8);
        var records = text.TrimStart().StartsWith('[') ? ParseList(text, path) : ParseLines(text, path);
        return FromRecords(records, name ?? Path.GetFileNameWithoutExtension(path));
    }

    /// <summary>Reads an evaluation dataset and all its records from an MLflow 3 server.</summary>
    /// <param name="client">The server's client.</param>
    /// <param name="datasetId">The dataset id (<c>d-…</c>).</param>
    /// <param name="cancellationToken">Cancels the reads.</param>
    /// <returns>The dataset, with its id and the server's digest.</returns>
    /// <exception cref="MlflowException">No such dataset, or the server keeps none.</exception>
    public static async Task<EvaluationDataset> FromServerAsync(MlflowClient client, string datasetId, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(client);
        var info = await client.GetEvaluationDatasetAsync(datasetId, cancellationToken).ConfigureAwait(false);
        var records = new List<EvaluationRecord>();
        await foreach (var record in client.GetEvaluationDatasetRecordsAsync(datasetId, cancellationToken).ConfigureAwait(false))
        {
            records.Add(record);
        }

        if (records.Count == 0)
        {
            throw new MlflowException($"Evaluation dataset '{info.Name}' ({datasetId}) has no records.");
        }

        return new EvaluationDataset(info.Name, records, info.DatasetId, string.IsNullOrEmpty(info.Digest) ? null : info.Digest);
    }

    /// <summary>Saves the records to a new evaluation dataset on an MLflow 3 server (SQL store).</summary>
    /// <param name="client">The server's client.</param>
    /// <param name="experimentIds">The experiments the dataset belongs to.</param>
    /// <param name="tags">Dataset tags, or <see langword="null"/>.</param>
    /// <param name="cancellationToken">Cancels the calls.</param>
    /// <returns>The saved dataset as the server holds it (with its id and digest).</returns>
    public async Task<EvaluationDataset> SaveToServerAsync(MlflowClient client, IEnumerable<string> experimentIds, IReadOnlyDictionary<string, string>? tags = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(client);
        var created = await client.CreateEvaluationDatasetAsync(Name, experimentIds, tags, cancellationToken).ConfigureAwait(false);
        await client.UpsertEvaluationDatasetRecordsAsync(created.DatasetId, Records, cancellationToken).ConfigureAwait(false);
        return await FromServerAsync(client, created.DatasetId, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The run input an evaluation logs: a server dataset as MLflow logs one (<c>mlflow_evaluation_dataset</c>), else the records' digest under the name.</summary>
    internal MlflowDataset ToRunInput()
    {
        var source = DatasetId is null
            ? new JsonObject { ["uri"] = "memory:" + Name }
            : new JsonObject { ["dataset_id"] = DatasetId };
        return MlflowDataset.CreateWithSource(Name, Digest, DatasetId is null ? "code" : ServerSourceType, source.ToJsonString());
    }

    private static string ComputeDigest(IReadOnlyList<EvaluationRecord> records)
    {
        var json = DatasetWireMapping.RecordsToJson(records.Select(r => r with { RecordId = null, DatasetId = null, CreatedTimeMs = null, LastUpdateTimeMs = null }));
#pragma warning disable CA5351 // MLflow's dataset digests are MD5 cut to 8 characters; not a security use
        return Convert.ToHexString(MD5.HashData(Encoding.UTF8.GetBytes(json)))[..8].ToLowerInvariant();
#pragma warning restore CA5351
    }

    private static List<EvaluationRecord> ParseList(string text, string path)
    {
        JsonNode? node;
        try
        {
            node = JsonNode.Parse(text);
        }
        catch (JsonException ex)
        {
            throw new FormatException($"{path} is not JSON: {ex.Message}", ex);
        }

        if (node is not JsonArray array)
        {
            throw new FormatException($"{path} is not a JSON list of records.");
        }

        return array.Select((item, i) => Record(item, path, $"record {i}")).ToList();
    }

    private static List<EvaluationRecord> ParseLines(string text, string path)
    {
        var records = new List<EvaluationRecord>();
        var lines = text.Split('\n');
        for (var i = 0; i < lines.Length; i++)
        {
            var line = lines[i].Trim();
            if (line.Length == 0)
            {
                continue;
            }

            JsonNode? node;
            try
            {
                node = JsonNode.Parse(line);
            }
            catch (JsonException ex)
            {
                throw new FormatException($"{path} line {i + 1} is not JSON: {ex.Message}", ex);
            }

            records.Add(Record(node, path, $"line {i + 1}"));
        }

        return records;
    }

    private static EvaluationRecord Record(JsonNode? node, string path, string where)
    {
        if (node is not JsonObject o || o["inputs"] is not JsonObject { Count: > 0 })
        {
            throw new FormatException($"{path} {where} is not a record: an object with non-empty \"inputs\" is expected.");
        }

        try
        {
            return DatasetWireMapping.RecordFromJson(o);
        }
        catch (MlflowException ex)
        {
            throw new FormatException($"{path} {where}: {ex.Message}", ex);
        }
    }
}
