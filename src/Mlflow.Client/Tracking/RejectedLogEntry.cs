namespace Mlflow.Client;

/// <summary>A metric point, param, tag or tag deletion the store refused; the other entries of its batch were delivered.</summary>
/// <param name="Kind"><c>metric</c>, <c>param</c>, <c>tag</c> or <c>tag deletion</c>.</param>
/// <param name="Key">The key of the entry.</param>
/// <param name="Message">Why it was refused: the server's error code and message, or the failure that made delivery give up.</param>
public sealed record RejectedLogEntry(string Kind, string Key, string Message);
