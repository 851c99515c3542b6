namespace Mlflow.Client.FileStore;

internal sealed partial class LocalFileStore
{
    /// <summary>
    /// An error of the local store with the code the tracking server would answer, and no HTTP status (nothing was
    /// sent): a <see cref="MlflowFailureKind.Rejected"/> of the request, like the server's answer to the same input.
    /// </summary>
    internal static MlflowException StoreError(MlflowErrorCode code, string message)
    {
        var raw = code switch
        {
            MlflowErrorCode.InvalidParameterValue => "INVALID_PARAMETER_VALUE",
            MlflowErrorCode.ResourceAlreadyExists => "RESOURCE_ALREADY_EXISTS",
            MlflowErrorCode.ResourceDoesNotExist => "RESOURCE_DOES_NOT_EXIST",
            MlflowErrorCode.InvalidState => "INVALID_STATE",
            _ => "INTERNAL_ERROR",
        };
        return new MlflowException(null, raw, message, "local store", null, null, MlflowFailureKind.Rejected);
    }

    private static MlflowException InvalidRunState(string runId)
        => StoreError(MlflowErrorCode.InvalidState, $"Run '{runId}' metadata is in invalid state.");
}
