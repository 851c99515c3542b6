using System.Security.Cryptography;
using Mlflow.Client.Artifacts;

namespace Mlflow.Client;

/// <summary>
/// A dataset as MLflow's dataset tracking records it (<c>mlflow.log_input</c>): a name, a digest, a source type and
/// source, and optionally a schema and a profile. Log it with <see cref="ActiveRun.LogInput(MlflowDataset, string?)"/>;
/// MLflow's UI then shows which data a run used.
/// </summary>
/// <remarks>
/// <para>Digests are MLflow's: 8 hex characters of an MD5 (<c>mlflow.data.digest_utils</c>). For a file: the MD5 of
/// its bytes (MLflow has no file digest of its own; this is its <c>get_normalized_md5_digest</c> over the content).
/// For rows: MLflow's <c>compute_pandas_digest</c> of the DataFrame pandas builds from the same values as Python
/// lists (integers as <c>int64</c>, floats and integers with missing values as <c>float64</c>, strings), so
/// <c>mlflow.data.from_pandas(pd.DataFrame(columns))</c> gives the same digest. As in MLflow, only string and
/// numeric columns of the first 10,000 rows enter the hash (booleans and dates do not), plus the row count and
/// every column name.</para>
/// </remarks>
public sealed class MlflowDataset
{
    /// <summary>The input tag that says what the dataset was used for (<c>training</c>, <c>evaluation</c>, ...).</summary>
    public const string ContextTag = "mlflow.data.context";

    private const int MaxNameLength = 500;
    private const int MaxDigestLength = 36;
    private const int MaxSourceLength = 65535;
    private const int MaxSchemaLength = 65535;

    private MlflowDataset(string name, string digest, string sourceType, string source, string? schema, string? profile)
    {
        Name = name;
        Digest = digest;
        SourceType = sourceType;
        Source = source;
        Schema = schema;
        Profile = profile;
    }

    /// <summary>The dataset name (at most 500 characters).</summary>
    public string Name { get; }

    /// <summary>The digest (at most 36 characters; 8 hex characters when computed here).</summary>
    public string Digest { get; }

    /// <summary>The source type: <c>local</c>, <c>http</c>, or the URI scheme (<c>s3</c>, ...).</summary>
    public string SourceType { get; }

    /// <summary>The source as MLflow's JSON: <c>{"uri": "/data/train.csv"}</c>, or <c>{"url": "https://..."}</c> for <c>http</c>.</summary>
    public string Source { get; }

    /// <summary>The schema as MLflow's JSON (<c>{"mlflow_colspec": [...]}</c>), or <see langword="null"/>.</summary>
    public string? Schema { get; }

    /// <summary>The profile as MLflow's JSON (<c>{"num_rows": ..., "num_elements": ...}</c>), or <see langword="null"/>.</summary>
    public string? Profile { get; }

    /// <summary>
    /// A dataset read from a local file: source type <c>local</c>, source its absolute path, digest from its bytes
    /// (streamed). A <c>.csv</c> file also gets the schema and profile MLflow records for <c>pd.read_csv(path)</c>
    /// (column types as pandas reads them, rows and elements), read in one streamed pass.
    /// </summary>
    /// <param name="path">The file.</param>
    /// <param name="name">The name; the file name when <see langword="null"/>.</param>
    /// <returns>The dataset.</returns>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    public static MlflowDataset FromFile(string path, string? name = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        var full = Path.GetFullPath(path);
        if (!File.Exists(full))
        {
            throw new FileNotFoundException($"The dataset file '{full}' does not exist.", full);
        }

        var (schema, profile) = full.EndsWith(".csv", StringComparison.OrdinalIgnoreCase) ? CsvProfile.Read(full) : (null, null);
        return Create(name ?? Path.GetFileName(full), ComputeDigest(full), full, schema, profile);
    }

    /// <summary>A dataset of rows of a record or class type (its public properties are the columns), with schema and profile.</summary>
    /// <typeparam name="T">The row type.</typeparam>
    /// <param name="rows">The rows.</param>
    /// <param name="name">The dataset name.</param>
    /// <param name="source">Where the rows came from: a local path, an <c>http(s)</c> URL or another URI (<c>s3://...</c>).</param>
    /// <returns>The dataset.</returns>
    public static MlflowDataset FromRows<T>(IEnumerable<T> rows, string name, string source)
        => FromTable(MlflowTable.FromRows(rows), name, source);

    /// <summary>A dataset of a table's rows, with schema and profile.</summary>
    /// <param name="table">The rows.</param>
    /// <param name="name">The dataset name.</param>
    /// <param name="source">Where the rows came from: a local path, an <c>http(s)</c> URL or another URI (<c>s3://...</c>).</param>
    /// <returns>The dataset.</returns>
    public static MlflowDataset FromTable(MlflowTable table, string name, string source)
    {
        ArgumentNullException.ThrowIfNull(table);
        var profile = PythonJson.Serialize(new List<KeyValuePair<string, object?>>
        {
            new("num_rows", (long)table.RowCount), new("num_elements", (long)table.RowCount * table.Columns.Count),
        });
        return Create(name, ComputeDigest(table), source, DatasetSchema.Infer(table), profile);
    }

    /// <summary>A dataset with every field given (the digest as computed elsewhere, say by Python).</summary>
    /// <param name="name">The name.</param>
    /// <param name="digest">The digest.</param>
    /// <param name="source">A local path, an <c>http(s)</c> URL or another URI.</param>
    /// <param name="schema">The schema JSON, or <see langword="null"/>.</param>
    /// <param name="profile">The profile JSON, or <see langword="null"/>.</param>
    /// <returns>The dataset.</returns>
    /// <exception cref="ArgumentException">A field is empty or longer than MLflow accepts.</exception>
    public static MlflowDataset Create(string name, string digest, string source, string? schema = null, string? profile = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentException.ThrowIfNullOrEmpty(digest);
        ArgumentException.ThrowIfNullOrEmpty(source);
        CheckLength(name, MaxNameLength, "name", nameof(name));
        CheckLength(digest, MaxDigestLength, "digest", nameof(digest));
        CheckLength(schema, MaxSchemaLength, "schema", nameof(schema));
        var (sourceType, sourceJson) = ResolveSource(source);
        CheckLength(sourceJson, MaxSourceLength, "source", nameof(source));
        return new MlflowDataset(name, digest, sourceType, sourceJson, schema, profile);
    }

    /// <summary>A dataset whose source type and source JSON are given as they are (for example MLflow's <c>mlflow_evaluation_dataset</c> and <c>{"dataset_id": ...}</c>).</summary>
    internal static MlflowDataset CreateWithSource(string name, string digest, string sourceType, string sourceJson, string? schema = null, string? profile = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentException.ThrowIfNullOrEmpty(digest);
        ArgumentException.ThrowIfNullOrEmpty(sourceType);
        CheckLength(name, MaxNameLength, "name", nameof(name));
        CheckLength(digest, MaxDigestLength, "digest", nameof(digest));
        CheckLength(sourceJson, MaxSourceLength, "source", nameof(sourceJson));
        CheckLength(schema, MaxSchemaLength, "schema", nameof(schema));
        return new MlflowDataset(name, digest, sourceType, sourceJson, schema, profile);
    }

    /// <summary>MLflow's 8-character digest of a file's bytes (streamed).</summary>
    /// <param name="path">The file.</param>
    /// <returns>The first 8 hex characters of the MD5 of the file.</returns>
    public static string ComputeDigest(string path)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 81920, FileOptions.SequentialScan);
#pragma warning disable CA5351 // MLflow's digests are MD5 truncated to 8 characters; not a security use
        return Convert.ToHexString(MD5.HashData(stream))[..8].ToLowerInvariant();
#pragma warning restore CA5351
    }

    /// <summary>The digest of a table's rows, as Python's <c>mlflow.data.from_pandas</c> computes it (see the remarks of <see cref="MlflowDataset"/>).</summary>
    /// <param name="table">The rows.</param>
    /// <returns>8 hex characters.</returns>
    public static string ComputeDigest(MlflowTable table)
    {
        ArgumentNullException.ThrowIfNull(table);
        return PandasDigest.Compute(table);
    }

    /// <summary>The run input MLflow records for this dataset, with the context tag when given.</summary>
    internal DatasetInput ToInput(string? context) => new()
    {
        Dataset = new Dataset { Name = Name, Digest = Digest, SourceType = SourceType, Source = Source, Schema = Schema, Profile = Profile },
        Tags = context is null ? [] : [new Tag(ContextTag, context)],
    };

    /// <summary>MLflow's dataset source for a string: <c>http</c> with <c>{"url": ...}</c>, the scheme of another URI, or <c>local</c> with <c>{"uri": ...}</c>.</summary>
    private static (string Type, string Json) ResolveSource(string source)
    {
        var schemeEnd = source.IndexOf("://", StringComparison.Ordinal);
        var scheme = schemeEnd > 1 && source[..schemeEnd].All(c => char.IsAsciiLetterOrDigit(c) || c is '+' or '-' or '.') ? source[..schemeEnd].ToLowerInvariant() : null;
        return scheme switch
        {
            "http" or "https" => ("http", PythonJson.Serialize(new List<KeyValuePair<string, object?>> { new("url", source) })),
            null or "file" => ("local", PythonJson.Serialize(new List<KeyValuePair<string, object?>> { new("uri", source) })),
            _ => (scheme, PythonJson.Serialize(new List<KeyValuePair<string, object?>> { new("uri", source) })),
        };
    }

    private static void CheckLength(string? value, int max, string what, string paramName)
    {
        if (value is not null && value.Length > max)
        {
            throw new ArgumentException($"The dataset {what} has {value.Length} characters; MLflow accepts at most {max}.", paramName);
        }
    }
}
