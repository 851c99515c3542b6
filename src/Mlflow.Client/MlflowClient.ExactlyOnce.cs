using System.Runtime.ExceptionServices;
using Microsoft.Extensions.Logging;
using Mlflow.Client.Resilience;

namespace Mlflow.Client;

public partial class MlflowClient
{
    /// <summary>Sends of one <see cref="LogBatchExactlyOnceAsync"/> at most: the batch, then what the server still lacks.</summary>
    internal const int ExactlyOnceMaxSends = 3;

    private const string LogBatchOperation = "runs/log-batch";

    /// <summary>
    /// Logs metrics, params and tags in one request like <see cref="LogBatchAsync"/>, and finishes the job when the
    /// answer is lost: the server holds every entry once, whatever happened to the answer.
    /// </summary>
    /// <remarks>
    /// <para>
    /// <see cref="LogBatchAsync"/> sends once; a failure that hides whether the server applied the batch (a timeout, a
    /// lost connection, HTTP 500, 502 or 504) is thrown with <see cref="MlflowException.OutcomeUnknown"/>, since a blind
    /// second send would double the points on a file-backed server and be refused (400) for a NaN point by a SQL one.
    /// This method instead reads the run back: the history of each metric key of the batch, and the run's params and
    /// tags when the batch has any. It then sends only the entries the server lacks, and repeats after another lost
    /// answer, at most <c>3</c> sends in all. Nothing extra is read when the first answer arrives.
    /// </para>
    /// <para>
    /// A point counts as present when the run holds a point of the same key, timestamp, step and value (NaN equal to
    /// NaN, ±Infinity equal to the ±<see cref="double.MaxValue"/> a SQL store keeps, 0.0 equal to -0.0), as many times
    /// as the batch has it. A point identical to one the run already held before this call is therefore taken as
    /// present after a lost answer; give points their own timestamp or step if you log the same one twice on purpose.
    /// A SQL-backed server keeps identical points once anyway.
    /// </para>
    /// </remarks>
    /// <param name="runId">The run id.</param>
    /// <param name="metrics">Metric points.</param>
    /// <param name="params">Params.</param>
    /// <param name="tags">Tags.</param>
    /// <param name="cancellationToken">Cancels the requests.</param>
    /// <returns>A task that completes when the server holds the whole batch.</returns>
    /// <exception cref="MlflowException">
    /// The batch was refused, or could not be completed. <see cref="MlflowException.OutcomeUnknown"/> says whether the
    /// server may hold part of it: <see langword="false"/> when nothing of this call was applied (a refusal of the first
    /// send, or a failure that proves it was not applied), so calling again is safe; <see langword="true"/> when the
    /// server was unreachable for the read-back or the sends, refused a re-send, or holds another value for a param of
    /// the batch (params cannot change; <see cref="MlflowException.ErrorCode"/> is then
    /// <see cref="MlflowErrorCode.InvalidParameterValue"/>).
    /// </exception>
    /// <exception cref="MlflowValidationException">A key or value holds a lone UTF-16 surrogate; nothing was sent.</exception>
    public virtual async Task LogBatchExactlyOnceAsync(string runId, IReadOnlyList<Metric>? metrics = null, IReadOnlyList<Param>? @params = null, IReadOnlyList<Tag>? tags = null, CancellationToken cancellationToken = default)
    {
        Require(runId, nameof(runId));
        var batch = new PendingBatch(metrics ?? [], @params ?? [], tags ?? []);
        var pending = batch;
        MlflowException? unknown = null;
        var deduplicating = false;
        for (var send = 1; ; send++)
        {
            try
            {
                await LogBatchAsync(runId, pending.Metrics, pending.Params, pending.Tags, cancellationToken).ConfigureAwait(false);
                return;
            }
            catch (MlflowException ex) when (ex.OutcomeUnknown || (unknown is not null && MetricReconciler.IsDuplicateNanRefusal(ex)))
            {
                // A SQL store refusing a NaN point it holds: it deduplicates, and the point is there.
                deduplicating |= MetricReconciler.IsDuplicateNanRefusal(ex);
                unknown = ex.OutcomeUnknown ? ex : unknown;
            }
            catch (MlflowException ex) when (unknown is not null)
            {
                // A re-send refused: the server may still hold part of the batch from the first send.
                throw StillUnknown(ex, ex.StatusCode, ex.RawErrorCode, ex.ServerMessage);
            }

            try
            {
                // The write's own failures may have opened the circuit breaker: the read that decides them must pass.
                using var readBack = RequestScope.Enter(RequestFlags.BypassCircuitBreaker);
                pending = await MissingAsync(runId, batch, deduplicating, cancellationToken).ConfigureAwait(false);
            }
            catch (MlflowException readBack)
            {
                ResilienceLog.ReadBackFailed(_logger, LogBatchOperation, readBack.StatusCode is { } s ? "HTTP " + (int)s : readBack.Kind.ToString());
                ExceptionDispatchInfo.Capture(unknown!).Throw(); // the write's own failure: still outcome unknown
                throw;
            }

            if (pending.Conflict is { } conflict)
            {
                throw StillUnknown(unknown!, null, "INVALID_PARAMETER_VALUE", $"Param '{conflict.Key}' has another value on the server run; params cannot change, so the batch was not completed.");
            }

            if (pending.Count == 0)
            {
                ResilienceLog.LostAnswerConfirmed(_logger, LogBatchOperation);
                return;
            }

            if (send == ExactlyOnceMaxSends)
            {
                ExceptionDispatchInfo.Capture(unknown!).Throw();
            }

            LogMissingResent(_logger, pending.Count, batch.Count, send + 1);
        }
    }

    /// <summary>The entries of <paramref name="batch"/> the run does not hold, read from the server.</summary>
    private async Task<PendingBatch> MissingAsync(string runId, PendingBatch batch, bool deduplicating, CancellationToken cancellationToken)
    {
        var metrics = new List<Metric>();
        foreach (var key in batch.Metrics.Select(m => m.Key).Distinct(StringComparer.Ordinal))
        {
            var local = batch.Metrics.Where(m => string.Equals(m.Key, key, StringComparison.Ordinal)).ToList();
            var history = await GetMetricHistoryAsync(runId, key, cancellationToken).ConfigureAwait(false);
            metrics.AddRange(MetricReconciler.Missing(local, 0, local.Count, history, deduplicating));
        }

        if (batch.Params.Count == 0 && batch.Tags.Count == 0)
        {
            return new PendingBatch(metrics, [], []);
        }

        var data = (await GetRunAsync(runId, cancellationToken).ConfigureAwait(false)).Data;
        var serverParams = ToDictionary(data.Params.Select(p => (p.Key, (string?)p.Value)));
        var serverTags = ToDictionary(data.Tags.Select(t => (t.Key, (string?)t.Value)));
        var conflict = batch.Params.FirstOrDefault(p => serverParams.TryGetValue(p.Key, out var v) && v != (p.Value ?? ""));
        var @params = batch.Params.Where(p => !serverParams.ContainsKey(p.Key)).ToList();
        var tags = batch.Tags.Where(t => !serverTags.TryGetValue(t.Key, out var v) || v != (t.Value ?? "")).ToList();
        return new PendingBatch(metrics, @params, tags) { Conflict = conflict };
    }

    private static Dictionary<string, string> ToDictionary(IEnumerable<(string Key, string? Value)> pairs)
    {
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (key, value) in pairs)
        {
            result[key] = value ?? "";
        }

        return result;
    }

    /// <summary>A failure of an exactly-once batch after the server may have applied part of it.</summary>
    private static MlflowException StillUnknown(MlflowException cause, System.Net.HttpStatusCode? status, string? errorCode, string? message)
        => new(status, errorCode, message, cause.Method, cause.Path, cause, MlflowFailureKind.OutcomeUnknown);

    [LoggerMessage(EventId = 101, Level = LogLevel.Warning, Message = "MLflow runs/log-batch: the answer was lost, and reading the server back shows {Missing} of the batch's {Total} entries missing; sending those (send {Send}).")]
    private static partial void LogMissingResent(ILogger logger, int missing, int total, int send);

    /// <summary>What is still to be sent of an exactly-once batch.</summary>
    private sealed record PendingBatch(IReadOnlyList<Metric> Metrics, IReadOnlyList<Param> Params, IReadOnlyList<Tag> Tags)
    {
        /// <summary>A param of the batch the server holds with another value.</summary>
        public Param? Conflict { get; init; }

        public int Count => Metrics.Count + Params.Count + Tags.Count;
    }
}
