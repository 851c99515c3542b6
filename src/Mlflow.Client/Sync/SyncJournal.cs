using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Mlflow.Client.Sync;

/// <summary>
/// What one local run has already delivered to one server, kept beside the run in
/// <c>&lt;run folder&gt;/.mlflow-dotnet/sync-&lt;hash of the server URI&gt;.json</c> (MLflow's FileStore only reads the
/// <c>metrics</c>, <c>params</c>, <c>tags</c>, <c>artifacts</c>, <c>inputs</c> folders of a run, so it ignores this one).
/// Written atomically (temp file + rename) after each acknowledged step; a lost journal only costs a reconciliation.
/// </summary>
internal sealed class SyncJournal
{
    internal const string FolderName = ".mlflow-dotnet";
    internal const int CurrentVersion = 1;

    public int Version { get; set; } = CurrentVersion;

    /// <summary>The server URI (no credentials), for people reading the file.</summary>
    public string? Target { get; set; }

    public string? ServerExperimentId { get; set; }

    public string? ServerRunId { get; set; }

    /// <summary>
    /// Set by the tracker's offline fallback when it knows the server experiment of the run (a run that went offline
    /// mid-run, or one started offline in an experiment known only by id): sync uses it instead of looking the local
    /// experiment's name up on the server.
    /// </summary>
    public string? PinnedExperimentId { get; set; }

    /// <summary>Param key → hash of the value sent.</summary>
    public Dictionary<string, string> Params { get; set; } = new(StringComparer.Ordinal);

    /// <summary>Tag key → hash of the value sent.</summary>
    public Dictionary<string, string> Tags { get; set; } = new(StringComparer.Ordinal);

    /// <summary>Metric key → number of leading points of the local metric file the server acknowledged.</summary>
    public Dictionary<string, long> Metrics { get; set; } = new(StringComparer.Ordinal);

    /// <summary>
    /// Metric key → where its acknowledged points end in the local metric file, so the next sync reads only what follows.
    /// Trusted only while <see cref="SyncMetricOffset.Count"/> equals the key's <see cref="Metrics"/> count and the line
    /// that ends at the offset still holds the acknowledged last point; otherwise the file is read from its start.
    /// Missing in journals of older versions (reads as empty: files are read from the start).
    /// </summary>
    public Dictionary<string, SyncMetricOffset> MetricOffsets { get; set; } = new(StringComparer.Ordinal);

    /// <summary>
    /// Metric key → [from, to) of points sent without an answer yet. Written before a batch goes out, cleared when it is
    /// acknowledged: after a crash, those points are checked against the server's history before anything is re-sent.
    /// </summary>
    public Dictionary<string, long[]>? InFlight { get; set; }

    /// <summary>
    /// Tag keys deleted from the local run that may still be on the server run (set online, or sent by an earlier sync):
    /// recorded by the tracker's offline fallback when it writes the deletion, applied and removed by the next sync. A
    /// key set again locally since is not deleted. Missing in journals of older versions (reads as empty).
    /// </summary>
    public List<string> TagDeletes { get; set; } = [];

    /// <summary>Hashes of the dataset inputs sent.</summary>
    public List<string> Inputs { get; set; } = [];

    /// <summary>Artifact path → "size:last write ticks" of the file uploaded.</summary>
    public Dictionary<string, string> Artifacts { get; set; } = new(StringComparer.Ordinal);

    /// <summary>
    /// Trace id → what of the local trace the server acknowledged (MLflow 3 servers). Missing in journals of older
    /// versions (reads as empty: each trace is then checked against the server before it is sent).
    /// </summary>
    public Dictionary<string, SyncTraceEntry> Traces { get; set; } = new(StringComparer.Ordinal);

    /// <summary>
    /// Local logged model id → what of the model (produced by this run) the server acknowledged (MLflow 3 servers).
    /// Missing in journals of older versions (reads as empty: each model is then looked up by its source tag first).
    /// </summary>
    public Dictionary<string, SyncModelEntry> Models { get; set; } = new(StringComparer.Ordinal);

    /// <summary>
    /// Metric key → the run's points (by position in the local metric file, not yet acknowledged) that are sent with a
    /// model link, decided once and kept here so a resumed or reconciled send carries the same links. Missing in
    /// journals of older versions (reads as empty).
    /// </summary>
    public Dictionary<string, List<SyncMetricLink>> MetricLinks { get; set; } = new(StringComparer.Ordinal);

    /// <summary>The status sent with <c>runs/update</c> (numeric <see cref="RunStatus"/>), if any.</summary>
    public int? Status { get; set; }

    public long? EndTime { get; set; }

    internal static string PathFor(string runDirectory, string targetKey)
        => Path.Combine(runDirectory, FolderName, "sync-" + Hash(targetKey) + ".json");

    /// <summary>A short stable hash (16 hex digits of SHA-256) of a text.</summary>
    internal static string Hash(string text)
        => Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(text)), 0, 8);

    /// <summary>Reads a journal; a missing, empty or unreadable one (a torn write by an old version) reads as new.</summary>
    internal static SyncJournal Load(string path)
    {
        try
        {
            var bytes = File.ReadAllBytes(path);
            if (bytes.Length > 0 && JsonSerializer.Deserialize(bytes, SyncJournalJsonContext.Default.SyncJournal) is { Version: CurrentVersion } journal)
            {
                return journal.Normalized();
            }
        }
        catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException or JsonException)
        {
            // start afresh: the server side is found again by its source tag and reconciled
        }

        return new SyncJournal();
    }

    internal void Save(string path)
    {
        var dir = Path.GetDirectoryName(path)!;
        Directory.CreateDirectory(dir);
        var temp = Path.Combine(dir, string.Create(CultureInfo.InvariantCulture, $".tmp-{Guid.NewGuid():N}"));
        try
        {
            File.WriteAllBytes(temp, JsonSerializer.SerializeToUtf8Bytes(this, SyncJournalJsonContext.Default.SyncJournal));
            File.Move(temp, path, overwrite: true);
        }
        finally
        {
            if (File.Exists(temp))
            {
                File.Delete(temp);
            }
        }
    }

    /// <summary>Forgets everything sent (the server run it described is gone). <see cref="TagDeletes"/> is kept: a run found again by its source tag may hold those tags.</summary>
    internal void Reset()
    {
        ServerRunId = null;
        Params.Clear();
        Tags.Clear();
        Metrics.Clear();
        MetricOffsets.Clear();
        InFlight = null;
        Inputs.Clear();
        Artifacts.Clear();
        Traces.Clear();
        Models.Clear();
        MetricLinks.Clear();
        Status = null;
        EndTime = null;
    }

    private SyncJournal Normalized()
    {
        // System.Text.Json fills dictionaries with the default comparer; keys are exact strings, so make that explicit.
        Params = new Dictionary<string, string>(Params ?? [], StringComparer.Ordinal);
        Tags = new Dictionary<string, string>(Tags ?? [], StringComparer.Ordinal);
        Metrics = new Dictionary<string, long>(Metrics ?? [], StringComparer.Ordinal);
        MetricOffsets = new Dictionary<string, SyncMetricOffset>(MetricOffsets ?? [], StringComparer.Ordinal);
        Artifacts = new Dictionary<string, string>(Artifacts ?? [], StringComparer.Ordinal);
        Traces = new Dictionary<string, SyncTraceEntry>(Traces ?? [], StringComparer.Ordinal);
        foreach (var entry in Traces.Values)
        {
            entry.Assessments = new Dictionary<string, string>(entry.Assessments ?? [], StringComparer.Ordinal);
        }

        Models = new Dictionary<string, SyncModelEntry>(Models ?? [], StringComparer.Ordinal);
        foreach (var entry in Models.Values)
        {
            entry.MetricLines = new Dictionary<string, long>(entry.MetricLines ?? [], StringComparer.Ordinal);
            entry.Artifacts = new Dictionary<string, string>(entry.Artifacts ?? [], StringComparer.Ordinal);
        }

        MetricLinks = new Dictionary<string, List<SyncMetricLink>>(MetricLinks ?? [], StringComparer.Ordinal);
        Inputs ??= [];
        TagDeletes ??= [];
        if (InFlight is { Count: 0 })
        {
            InFlight = null;
        }

        return this;
    }
}

/// <summary>Where the first <see cref="Count"/> points of a local metric file end, and which point ends there.</summary>
internal sealed class SyncMetricOffset
{
    /// <summary>Points acknowledged (equals <see cref="SyncJournal.Metrics"/> of the key while the offset is valid).</summary>
    public long Count { get; set; }

    /// <summary>The byte offset just after the line of the last acknowledged point.</summary>
    public long Offset { get; set; }

    /// <summary>A hash of that last point (timestamp, step, value): a rewritten file no longer matches it.</summary>
    public string Last { get; set; } = "";
}

/// <summary>What of one local trace a server acknowledged.</summary>
internal sealed class SyncTraceEntry
{
    /// <summary>The trace's info and span data are on the server.</summary>
    public bool Logged { get; set; }

    /// <summary>Local assessment id → the id the server gave it.</summary>
    public Dictionary<string, string> Assessments { get; set; } = new(StringComparer.Ordinal);

    /// <summary>
    /// A local assessment sent without an answer yet: before anything more is sent to this trace, the server's
    /// assessments are read and the one carrying this local id (metadata <c>mlflow.dotnet.sourceAssessmentId</c>) taken.
    /// </summary>
    public string? AssessmentInFlight { get; set; }
}

/// <summary>Source-generated JSON metadata of <see cref="SyncJournal"/>.</summary>
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    WriteIndented = true)]
[JsonSerializable(typeof(SyncJournal))]
internal sealed partial class SyncJournalJsonContext : JsonSerializerContext;
