namespace Mlflow.Client.Resilience;

/// <summary>
/// A request body streamed from the caller (an artifact upload): never buffered whole for retries. When it cannot be
/// sent again (a non-seekable source), the request gets exactly one attempt.
/// </summary>
internal interface IStreamedRequestContent
{
    /// <summary>Whether the body can be sent again (its source is seekable).</summary>
    bool CanResend { get; }
}
