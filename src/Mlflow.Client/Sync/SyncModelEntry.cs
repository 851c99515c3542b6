namespace Mlflow.Client.Sync;

/// <summary>
/// What of one local logged model (produced by the journal's run) a server acknowledged, in the run's
/// <see cref="SyncJournal.Models"/>: the server model made from it, and which of its steps are done.
/// </summary>
internal sealed class SyncModelEntry
{
    /// <summary>
    /// The server's logged model made from the local one (it carries tag <c>mlflow.dotnet.sourceModelId</c> = the local
    /// id); <see langword="null"/> until created or found by that tag.
    /// </summary>
    public string? ServerModelId { get; set; }

    /// <summary>The server model's artifact location, where its files are uploaded.</summary>
    public string? ArtifactUri { get; set; }

    /// <summary>The model is linked to the server run as its output (<c>runs/outputs</c>).</summary>
    public bool OutputLogged { get; set; }

    /// <summary>
    /// Metric key → how many of this run's lines of the model's metric file (in file order) are settled: paired with a
    /// point of the run, whose send carries the model link (<see cref="SyncJournal.MetricLinks"/>), or found to be a point
    /// the server got before the model was pushed (left unlinked rather than sent twice).
    /// </summary>
    public Dictionary<string, long> MetricLines { get; set; } = new(StringComparer.Ordinal);

    /// <summary>Artifact path under the model → "size:last write ticks" of the file uploaded.</summary>
    public Dictionary<string, string> Artifacts { get; set; } = new(StringComparer.Ordinal);

    /// <summary>The status the server model was finalized with (numeric <see cref="LoggedModelStatus"/>), once confirmed.</summary>
    public int? Status { get; set; }
}

/// <summary>A point of the run's metric file that is sent with a model link (a line of a logged model's metric file names it).</summary>
internal sealed class SyncMetricLink
{
    /// <summary>The point's position among the well-formed points of the run's local metric file.</summary>
    public long Index { get; set; }

    /// <summary>The local logged model (its server id is in <see cref="SyncJournal.Models"/>).</summary>
    public string Model { get; set; } = "";

    /// <summary>The dataset the model's line names, if any.</summary>
    public string? DatasetName { get; set; }

    /// <summary>The dataset's digest, if any.</summary>
    public string? DatasetDigest { get; set; }
}
