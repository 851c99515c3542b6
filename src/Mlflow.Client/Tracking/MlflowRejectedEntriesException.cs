namespace Mlflow.Client;

/// <summary>
/// Entries of a run were not stored: the server rejected them (for example a param re-logged with another value) or
/// delivery gave up. Every other entry of the same batches was delivered. Thrown by <see cref="ActiveRun.FlushAsync"/>,
/// <see cref="ActiveRun.End"/> and disposal of the run, once per rejection.
/// </summary>
public sealed class MlflowRejectedEntriesException : MlflowException
{
    /// <summary>Creates the exception.</summary>
    public MlflowRejectedEntriesException() : this("", []) { }

    /// <summary>Creates the exception with a message.</summary>
    /// <param name="message">The message.</param>
    public MlflowRejectedEntriesException(string message) : base(message) => Rejected = [];

    /// <summary>Creates the exception with a message and cause.</summary>
    /// <param name="message">The message.</param>
    /// <param name="innerException">The cause.</param>
    public MlflowRejectedEntriesException(string message, Exception? innerException) : base(message, innerException) => Rejected = [];

    /// <summary>Creates the exception for the rejected entries of a run.</summary>
    /// <param name="runId">The run.</param>
    /// <param name="rejected">The rejected entries.</param>
    public MlflowRejectedEntriesException(string runId, IReadOnlyList<RejectedLogEntry> rejected)
        : base(Describe(runId, rejected))
    {
        RunId = runId;
        Rejected = rejected;
    }

    /// <summary>The run the entries belong to.</summary>
    public string? RunId { get; }

    /// <summary>The rejected entries with the reasons.</summary>
    public IReadOnlyList<RejectedLogEntry> Rejected { get; }

    private static string Describe(string runId, IReadOnlyList<RejectedLogEntry> rejected)
    {
        const int Shown = 20;
        var lines = rejected.Take(Shown).Select(r => $"  {r.Kind} '{r.Key}': {r.Message}");
        var more = rejected.Count > Shown ? $"{Environment.NewLine}  ... and {rejected.Count - Shown} more" : "";
        return $"{rejected.Count} entr{(rejected.Count == 1 ? "y" : "ies")} of run {runId} {(rejected.Count == 1 ? "was" : "were")} not stored:{Environment.NewLine}{string.Join(Environment.NewLine, lines)}{more}";
    }
}
