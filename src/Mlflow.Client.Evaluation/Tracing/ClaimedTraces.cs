using System.Collections.Concurrent;
using System.Diagnostics;

namespace Mlflow.Client.Tracing;

/// <summary>
/// Trace ids another recorder in this process logs itself: an evaluation records each record's trace with its spans and
/// assessments, so <see cref="MlflowTracer"/> and the OpenTelemetry exporter, which also see those spans, leave them
/// alone (else a span of the record whose parent they do not capture would become a second trace with the same id).
/// </summary>
internal static class ClaimedTraces
{
    private static readonly ConcurrentDictionary<ActivityTraceId, byte> Claimed = new();

    /// <summary>Claims a trace id until <see cref="Release"/>.</summary>
    public static void Claim(ActivityTraceId traceId) => Claimed.TryAdd(traceId, 0);

    /// <summary>Gives a trace id back.</summary>
    public static void Release(ActivityTraceId traceId) => Claimed.TryRemove(traceId, out _);

    /// <summary>Whether a recorder logs this trace itself.</summary>
    public static bool IsClaimed(ActivityTraceId traceId) => !Claimed.IsEmpty && Claimed.ContainsKey(traceId);
}
