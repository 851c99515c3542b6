namespace Mlflow.Client;

/// <summary>MLflow's error codes (the <c>error_code</c> of an error response), as a typed value.</summary>
/// <remarks>The raw text is always available as <see cref="MlflowException.RawErrorCode"/>; codes this SDK does not know map to <see cref="Unknown"/>.</remarks>
public enum MlflowErrorCode
{
    /// <summary>No error code, or one this SDK does not know.</summary>
    Unknown = 0,
    /// <summary>A parameter of the request is invalid (400).</summary>
    InvalidParameterValue,
    /// <summary>The request is malformed (400).</summary>
    BadRequest,
    /// <summary>The entity already exists (400 on MLflow's own server, not 409).</summary>
    ResourceAlreadyExists,
    /// <summary>The entity does not exist (404).</summary>
    ResourceDoesNotExist,
    /// <summary>Not found (404).</summary>
    NotFound,
    /// <summary>The endpoint does not exist (404).</summary>
    EndpointNotFound,
    /// <summary>The server failed (500).</summary>
    InternalError,
    /// <summary>The store is in an invalid state (500).</summary>
    InvalidState,
    /// <summary>Data loss (500).</summary>
    DataLoss,
    /// <summary>Not authenticated (401).</summary>
    Unauthenticated,
    /// <summary>Not authorized (401).</summary>
    CustomerUnauthorized,
    /// <summary>Permission denied (403).</summary>
    PermissionDenied,
    /// <summary>Already exists (409, newer APIs).</summary>
    AlreadyExists,
    /// <summary>Conflict (409).</summary>
    ResourceConflict,
    /// <summary>Aborted (409).</summary>
    Aborted,
    /// <summary>Rate limited (429).</summary>
    RequestLimitExceeded,
    /// <summary>Resources exhausted (429).</summary>
    ResourceExhausted,
    /// <summary>Cancelled (499).</summary>
    Cancelled,
    /// <summary>Not implemented (501).</summary>
    NotImplemented,
    /// <summary>Temporarily unavailable (503).</summary>
    TemporarilyUnavailable,
    /// <summary>Deadline exceeded (504).</summary>
    DeadlineExceeded,
}
