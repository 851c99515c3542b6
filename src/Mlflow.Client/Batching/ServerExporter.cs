using System.Diagnostics;
using Mlflow.Client.Diagnostics;
using Mlflow.Client.Store;

namespace Mlflow.Client.Batching;

/// <summary>How one send to the server ended.</summary>
internal enum SendStatus
{
    /// <summary>The server took every entry.</summary>
    Delivered,
    /// <summary>The server refused the batch: bisect it when <see cref="SendResult.InputFault"/>, else report every entry.</summary>
    Rejected,
    /// <summary>The server could not be reached within the budget: the entries were not delivered, or the outcome is unknown.</summary>
    NotDelivered,
}

/// <summary>The server's verdict on one batch.</summary>
/// <param name="Status">Delivered, rejected or not delivered.</param>
/// <param name="Reason">Why, when not delivered (never a credential).</param>
/// <param name="InputFault">Rejected because of the input (the server names it): halves find the offending entries.</param>
/// <param name="Unknown">Not delivered, but the request may have been applied: reconcile before sending it again.</param>
internal readonly record struct SendResult(SendStatus Status, string Reason = "", bool InputFault = false, bool Unknown = false)
{
    public static SendResult Delivered => new(SendStatus.Delivered);

    /// <summary>The export outcome when nothing keeps what the server did not take: not delivered is reported as rejected.</summary>
    public ExportResult ToExport() => Status == SendStatus.Delivered ? ExportResult.Delivered : new ExportResult(ExportOutcome.Rejected, Reason, InputFault);
}

/// <summary>
/// Sends batches to the store through its client. The HTTP pipeline below is the only retry layer; this only reads its
/// verdict: delivered, rejected (bisect when the server names the input), or not delivered (transient beyond the
/// pipeline's budget, no answer within <paramref name="sendBudget"/>, or cut by shutdown), with whether it may have been
/// applied. Alone (no offline layer) what is not delivered is reported as rejected.
/// </summary>
/// <param name="store">The tracking store.</param>
/// <param name="sendBudget">The longest one batch waits for the server, HTTP retries included; <see langword="null"/>: the pipeline's own budget.</param>
/// <param name="time">The clock of the budget.</param>
internal sealed class ServerExporter(ITrackingStore store, TimeSpan? sendBudget, TimeProvider time) : ILogExporter
{
    internal const string Aborted = "sending was stopped at the end of the run or of the tracker (MlflowBatchingOptions.ShutdownTimeout)";

    public ITrackingStore Store => store;

    public bool KeepsLocally => false;

    public async Task<ExportResult> ExportAsync(RunBuffer run, LogEntry[] entries, int start, int end, CancellationToken cancellationToken)
        => (await SendAsync(run, entries, start, end, cancellationToken).ConfigureAwait(false)).ToExport();

    public void Flush()
    {
    }

    /// <summary>
    /// Sends one batch inside one <c>mlflow.batch.send</c> span (run id, entry count, outcome) and records its size and
    /// duration (<c>mlflow.client.batch.size</c>, <c>mlflow.client.batch.duration</c>).
    /// </summary>
    public async Task<SendResult> SendAsync(RunBuffer run, LogEntry[] entries, int start, int end, CancellationToken cancellationToken)
    {
        using var activity = MlflowTelemetry.Source.StartActivity("mlflow.batch.send", ActivityKind.Internal);
        activity?.SetTag("mlflow.run_id", run.RunId);
        activity?.SetTag("mlflow.entries", end - start);
        var started = Stopwatch.GetTimestamp();
        var result = await SendOnceAsync(run, entries, start, end, cancellationToken).ConfigureAwait(false);
        var outcome = result.Status.ToString();
        if (activity is not null)
        {
            activity.SetTag("mlflow.outcome", outcome);
            if (result.Status != SendStatus.Delivered)
            {
                activity.SetStatus(ActivityStatusCode.Error, result.Reason);
            }
        }

        var tag = new KeyValuePair<string, object?>("mlflow.outcome", outcome);
        MlflowTelemetry.BatchSize.Record(end - start, tag);
        MlflowTelemetry.BatchDuration.Record(Stopwatch.GetElapsedTime(started).TotalMilliseconds, tag);
        return result;
    }

    private async Task<SendResult> SendOnceAsync(RunBuffer run, LogEntry[] entries, int start, int end, CancellationToken cancellationToken)
    {
        if (cancellationToken.IsCancellationRequested)
        {
            return new SendResult(SendStatus.NotDelivered, Aborted);
        }

        using var deadline = sendBudget is { } budget ? new CancellationTokenSource(budget, time) : null;
        using var linked = deadline is null ? null : CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, deadline.Token);
        var ct = linked?.Token ?? cancellationToken;
        try
        {
            if (entries[start].Kind == LogEntryKind.DeleteTag)
            {
                await store.DeleteTagAsync(run.RunId, entries[start].Key, ct).ConfigureAwait(false); // a deletion goes alone
            }
            else
            {
                await store.LogEntriesAsync(run.RunId, entries.AsMemory(start, end - start), ct).ConfigureAwait(false);
            }

            return SendResult.Delivered;
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            return new SendResult(SendStatus.NotDelivered, Aborted, Unknown: true);
        }
        catch (OperationCanceledException) when (deadline is { IsCancellationRequested: true })
        {
            // The request may have been applied: kept entries are reconciled with the server's history first.
            return new SendResult(SendStatus.NotDelivered, NoAnswerWithin(sendBudget!.Value), Unknown: true);
        }
        catch (MlflowException ex) when (ex.IsTransient || ex.Kind == MlflowFailureKind.Cancelled)
        {
            // The pipeline already spent its retry budget.
            return new SendResult(SendStatus.NotDelivered, ex.ShortReason, Unknown: ex.Kind is MlflowFailureKind.OutcomeUnknown or MlflowFailureKind.Cancelled);
        }
        catch (MlflowException ex)
        {
            // Credentials, a missing run or endpoint: nothing in the batch is at fault. Else the server names the input.
            return new SendResult(SendStatus.Rejected, ex.ShortReason, InputFault: ex.RejectsInput);
        }
#pragma warning disable CA1031 // a store failure of any kind becomes a reported rejection, never a lost entry
        catch (Exception ex)
#pragma warning restore CA1031
        {
            return new SendResult(SendStatus.Rejected, ex.GetType().Name + ": " + ex.Message);
        }
    }

    internal static string NoAnswerWithin(TimeSpan budget)
        => string.Create(System.Globalization.CultureInfo.InvariantCulture, $"no answer within {budget.TotalSeconds:0.###} s (MlflowOfflineOptions.OfflineAfter)");
}
