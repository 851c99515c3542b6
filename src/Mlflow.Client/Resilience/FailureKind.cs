namespace Mlflow.Client.Resilience;

/// <summary>What one failed attempt says about whether the server applied the request.</summary>
internal enum FailureKind
{
    /// <summary>Not a failure worth retrying (success, 4xx, caller cancellation, TLS or configuration errors).</summary>
    Permanent,

    /// <summary>A transient failure that proves the request was not applied: no connection, or the server refused it (408, 413, 429, 503).</summary>
    NotApplied,

    /// <summary>A transient failure after which the request may have been applied: timeout, lost connection, 500, 502, 504.</summary>
    Ambiguous,
}
