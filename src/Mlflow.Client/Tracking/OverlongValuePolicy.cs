namespace Mlflow.Client;

/// <summary>What happens to a param or tag value longer than the server accepts.</summary>
public enum OverlongValuePolicy
{
    /// <summary>Cut it to the limit, as the server itself does (never inside a surrogate pair), with one warning per key.</summary>
    Truncate = 0,
    /// <summary>Refuse it with <see cref="MlflowValidationException"/>.</summary>
    Throw = 1,
}
