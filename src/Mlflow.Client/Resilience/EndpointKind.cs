namespace Mlflow.Client.Resilience;

/// <summary>What sending a request twice does to the server.</summary>
internal enum EndpointKind
{
    /// <summary>Reads nothing but state (GET, HEAD, the POST searches): always safe to repeat.</summary>
    Read,

    /// <summary>A write whose repetition leaves the same state and answers success (set-tag, update, delete run…).</summary>
    IdempotentWrite,

    /// <summary>A write that must not be repeated blindly: it creates, appends, or answers an error the second time.</summary>
    NonIdempotentWrite,
}
