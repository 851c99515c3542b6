namespace Mlflow.Client.Batching;

/// <summary>How an export of one batch ended.</summary>
internal enum ExportOutcome
{
    /// <summary>The server took every entry.</summary>
    Delivered,

    /// <summary>The server refused the batch (bisect it when <see cref="ExportResult.InputFault"/>, else report every entry), or nothing could keep it.</summary>
    Rejected,

    /// <summary>Kept on local disk (the outbox) for a later send: counted offline by the exporter.</summary>
    Kept,
}

/// <summary>The answer of an exporter to one batch.</summary>
/// <param name="Outcome">Delivered, rejected or kept.</param>
/// <param name="Reason">Why, when rejected (never a credential).</param>
/// <param name="InputFault">Rejected because of the input (the server names it): halves find the offending entries.</param>
internal readonly record struct ExportResult(ExportOutcome Outcome, string Reason = "", bool InputFault = false)
{
    public static ExportResult Delivered => new(ExportOutcome.Delivered);

    public static ExportResult Kept => new(ExportOutcome.Kept);
}

/// <summary>
/// Where the sender (<see cref="LogBatcher"/>) hands each batch it cut: the server (<see cref="ServerExporter"/>), or the
/// offline layer around it (<see cref="Offline.OfflineExporter"/>), which keeps on disk what the server does not take.
/// The sender queues, cuts batches, bisects rejected batches and settles every entry exactly once by the outcome of one
/// call; the exporter decides where entries go (the shape of OpenTelemetry's exporter under its batch processor).
/// </summary>
internal interface ILogExporter
{
    /// <summary>Whether the exporter can keep entries on disk: a run's end can then move what is left to the outbox.</summary>
    bool KeepsLocally { get; }

    /// <summary>
    /// Exports entries [start, end) of a run: sends them (one request), or keeps them on disk. Never throws but for bugs.
    /// </summary>
    /// <param name="run">The run.</param>
    /// <param name="entries">The run's taken entries.</param>
    /// <param name="start">The first entry of the batch.</param>
    /// <param name="end">One past its last entry.</param>
    /// <param name="cancellationToken">Cancels a send (the run's end moved it to the outbox, or the tracker stopped).</param>
    /// <returns>Delivered, rejected or kept.</returns>
    Task<ExportResult> ExportAsync(RunBuffer run, LogEntry[] entries, int start, int end, CancellationToken cancellationToken);

    /// <summary>Forces what was kept to disk now (a flush returns once the entries are durable).</summary>
    void Flush();
}
