namespace Mlflow.Client.Resilience;

/// <summary>
/// How the requests sent from the current async flow are treated by the retry pipeline. The SDK opens a scope around
/// a few calls whose purpose differs from an ordinary request; everything else runs with no flag.
/// </summary>
internal static class RequestScope
{
    private static readonly AsyncLocal<RequestFlags> Current = new();

    /// <summary>The flags in force for the current async flow.</summary>
    public static RequestFlags Flags => Current.Value;

    /// <summary>Adds <paramref name="flags"/> until the returned scope is disposed.</summary>
    public static Scope Enter(RequestFlags flags)
    {
        var previous = Current.Value;
        Current.Value = previous | flags;
        return new Scope(previous);
    }

    /// <summary>Restores the flags in force before <see cref="Enter"/>.</summary>
    internal readonly struct Scope(RequestFlags previous) : IDisposable
    {
        public void Dispose() => Current.Value = previous;
    }
}

/// <summary>Per-flow request treatments (<see cref="RequestScope"/>).</summary>
[Flags]
internal enum RequestFlags
{
    /// <summary>Ordinary requests.</summary>
    None = 0,

    /// <summary>
    /// A read that decides the outcome of a write whose answer was lost: the circuit breaker that the write's own
    /// failures may have opened must not refuse it (it is neither counted by the breaker nor refused by it).
    /// </summary>
    BypassCircuitBreaker = 1,

    /// <summary>
    /// A refused connection is not retried: the caller (a run start) goes offline at once rather than wait out the
    /// retry budget for a server that is not there.
    /// </summary>
    NoRetryWhenRefused = 2,
}
