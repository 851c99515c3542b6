using System.Runtime.ExceptionServices;
using Microsoft.Extensions.Logging;

namespace Mlflow.Client.Resilience;

/// <summary>
/// Heals a lost answer of a write that fails when applied twice (a delete answers 404 the second time, a restore of an
/// active experiment 404): the state is read back instead of the request being sent blindly again.
/// </summary>
/// <remarks>
/// The retry pipeline never re-sends such a write once it may have been applied; it fails with
/// <see cref="MlflowException.OutcomeUnknown"/>. This asks the server whether the write took effect: yes → success; no →
/// the write is sent again (bounded); the read fails too → the original exception, still marked outcome unknown.
/// </remarks>
internal static class LostAnswerRecovery
{
    /// <summary>Sends of one write at most (the first and two after a read-back said "not applied").</summary>
    internal const int MaxSends = 3;

    /// <summary>Sends <paramref name="write"/>; after an unknown outcome, <paramref name="isApplied"/> decides.</summary>
    /// <param name="write">The write, mapped to <see cref="MlflowException"/> on failure.</param>
    /// <param name="isApplied">Reads the server state: whether the write's effect is there.</param>
    /// <param name="operation">The endpoint, for the log (never an id or a key).</param>
    /// <param name="logger">Where the recovery is reported.</param>
    public static async Task SendAsync(Func<Task> write, Func<Task<bool>> isApplied, string operation, ILogger logger)
    {
        for (var send = 1; ; send++)
        {
            try
            {
                await write().ConfigureAwait(false);
                return;
            }
            catch (MlflowException ex) when (ex.OutcomeUnknown && send < MaxSends)
            {
                bool applied;
                try
                {
                    // The write's own failures may have opened the circuit breaker: the read that decides them must pass.
                    using (RequestScope.Enter(RequestFlags.BypassCircuitBreaker))
                    {
                        applied = await isApplied().ConfigureAwait(false);
                    }
                }
                catch (MlflowException readBack)
                {
                    ResilienceLog.ReadBackFailed(logger, operation, readBack.StatusCode is { } s ? "HTTP " + (int)s : readBack.Kind.ToString());
                    ExceptionDispatchInfo.Capture(ex).Throw(); // the write's own failure: still outcome unknown
                    throw;
                }

                if (applied)
                {
                    ResilienceLog.LostAnswerConfirmed(logger, operation);
                    return;
                }

                ResilienceLog.LostAnswerNotApplied(logger, operation, send + 1);
            }
        }
    }

    /// <summary>Whether <paramref name="read"/> answers RESOURCE_DOES_NOT_EXIST (the thing is gone).</summary>
    public static async Task<bool> IsGoneAsync(Func<Task> read)
    {
        try
        {
            await read().ConfigureAwait(false);
            return false;
        }
        catch (MlflowException ex) when (ex.ErrorCode == MlflowErrorCode.ResourceDoesNotExist)
        {
            return true;
        }
    }

    /// <summary>Whether no tag of <paramref name="tags"/> has the key <paramref name="key"/>.</summary>
    public static bool Lacks(IReadOnlyList<Tag> tags, string key) => !tags.Any(t => string.Equals(t.Key, key, StringComparison.Ordinal));
}
