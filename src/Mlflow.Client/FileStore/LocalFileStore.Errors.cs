using System.Net;

namespace Mlflow.Client.FileStore;

internal sealed partial class LocalFileStore
{
    /// <summary>An error as the tracking server would answer it (same code and HTTP status), raised by the local store.</summary>
    internal static MlflowException StoreError(MlflowErrorCode code, string message)
    {
        var (status, raw) = code switch
        {
            MlflowErrorCode.InvalidParameterValue => (HttpStatusCode.BadRequest, "INVALID_PARAMETER_VALUE"),
            MlflowErrorCode.ResourceAlreadyExists => (HttpStatusCode.BadRequest, "RESOURCE_ALREADY_EXISTS"),
            MlflowErrorCode.ResourceDoesNotExist => (HttpStatusCode.NotFound, "RESOURCE_DOES_NOT_EXIST"),
            MlflowErrorCode.InvalidState => (HttpStatusCode.InternalServerError, "INVALID_STATE"),
            _ => (HttpStatusCode.InternalServerError, "INTERNAL_ERROR"),
        };
        return new MlflowException(status, raw, message, "local store", null);
    }

    private static MlflowException InvalidRunState(string runId)
        => StoreError(MlflowErrorCode.InvalidState, $"Run '{runId}' metadata is in invalid state.");
}
