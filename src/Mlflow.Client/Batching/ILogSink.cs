namespace Mlflow.Client.Batching;

/// <summary>How a batch handed to a sink ended.</summary>
internal enum SendStatus
{
    /// <summary>The server took every entry.</summary>
    Delivered,
    /// <summary>The server refused the batch: bisect it when <see cref="SendResult.InputFault"/>, else report every entry.</summary>
    Rejected,
    /// <summary>The server could not be reached within the budget: the entries were not delivered, or the outcome is unknown.</summary>
    NotDelivered,
}

/// <summary>The answer of a sink to one batch.</summary>
/// <param name="Status">Delivered, rejected or not delivered.</param>
/// <param name="Reason">Why, when not delivered (never a credential).</param>
/// <param name="InputFault">Rejected because of the input (the server names it): halves find the offending entries.</param>
/// <param name="Unknown">Not delivered, but the request may have been applied: reconcile before sending it again.</param>
internal readonly record struct SendResult(SendStatus Status, string Reason = "", bool InputFault = false, bool Unknown = false)
{
    public static SendResult Delivered => new(SendStatus.Delivered);
}

/// <summary>
/// Where the sender (<see cref="LogBatcher"/>) hands what it queued and cut: the server (<see cref="ServerSink"/>), or a
/// layer around it that keeps what the server does not take (the offline fallback). The sender queues, cuts batches,
/// bisects rejected batches and settles every entry exactly once; the sink decides where entries go.
/// </summary>
internal interface ILogSink
{
    /// <summary>
    /// Whether entries a send did not deliver can be kept by <see cref="KeepAsync"/>: then the sender stops a run's
    /// dispatch at the first such batch and hands it and every later entry over, in order; else they are reported.
    /// </summary>
    bool CanKeep { get; }

    /// <summary>The longest the sender may sleep while the sink has work of its own due; <see langword="null"/>: none.</summary>
    TimeSpan? NextWake { get; }

    /// <summary>Called once by the sender: how the sink wakes it (work of its own became due).</summary>
    void Attach(Action wakeSender);

    /// <summary>
    /// Offered a run's whole turn (entries [0, count)) before anything is sent: the sink takes it when the run's entries
    /// must not go to the server directly (the run is offline, or its queue overflowed) and returns
    /// <see langword="true"/>; else the sender sends the entries with <see cref="SendAsync"/>.
    /// </summary>
    Task<bool> TryTakeAsync(RunBuffer run, LogEntry[] entries, int count);

    /// <summary>Sends entries [start, end) of a run (one request). Never throws but for bugs.</summary>
    Task<SendResult> SendAsync(RunBuffer run, LogEntry[] entries, int start, int end, CancellationToken cancellationToken);

    /// <summary>Keeps entries [from, to) that a send did not deliver (only when <see cref="CanKeep"/>).</summary>
    Task KeepAsync(RunBuffer run, LogEntry[] entries, int from, int to, bool unknownOutcome, string reason);

    /// <summary>One pass of the sender ended: the sink starts work of its own that is due (not while <paramref name="stopping"/>) and forces what it kept to disk when due.</summary>
    void AfterPass(bool stopping);

    /// <summary>Forces what the sink kept to disk now (a flush returns once the entries are durable).</summary>
    void Persist();
}
