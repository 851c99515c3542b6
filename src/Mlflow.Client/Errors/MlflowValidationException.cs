namespace Mlflow.Client;

/// <summary>
/// Input was refused on the client, before anything was sent or written: the message names the key and the rule.
/// Nothing else of the call's batch is lost.
/// </summary>
public sealed class MlflowValidationException : ArgumentException
{
    /// <summary>Creates the exception.</summary>
    public MlflowValidationException() { }

    /// <summary>Creates the exception with a message.</summary>
    /// <param name="message">The message.</param>
    public MlflowValidationException(string message) : base(message) { }

    /// <summary>Creates the exception with a message and cause.</summary>
    /// <param name="message">The message.</param>
    /// <param name="innerException">The cause.</param>
    public MlflowValidationException(string message, Exception innerException) : base(message, innerException) { }

    /// <summary>Creates the exception for a key and the rule it breaks.</summary>
    /// <param name="key">The offending key (or name, or path).</param>
    /// <param name="rule">The rule, in words.</param>
    /// <param name="subject">What the key is, for the message: "metric key", "param key", "run id"...</param>
    public MlflowValidationException(string? key, string rule, string subject)
        : base($"Invalid {subject} '{Shorten(key)}': {rule}")
    {
        Key = key;
        Rule = rule;
        Subject = subject;
    }

    /// <summary>The offending key, name or path, as given.</summary>
    public string? Key { get; }

    /// <summary>What the key is: "metric key", "param key", "tag key", "run id"...</summary>
    public string? Subject { get; }

    /// <summary>The rule that was broken, in words.</summary>
    public string? Rule { get; }

    private static string Shorten(string? s) => s is null ? "(null)" : s.Length <= 120 ? s : string.Concat(s.AsSpan(0, 117), "...");
}
