using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace Mlflow.Client;

/// <summary>
/// The tracker's last-resort logger, used when no <see cref="MlflowTrackerOptions.LoggerFactory"/> is given (as Python's
/// logging writes warnings to standard error when no handler is configured): warnings and errors, one line each, each kind
/// of message (event id) once, so that going offline, data kept locally and rejected entries are seen by a person even in an
/// application that configured no logging. Messages are the SDK's own, which never hold a credential; no scope, state or
/// stack trace is written. Turned off by <see cref="MlflowTrackerOptions.WarningsToStandardError"/>.
/// </summary>
internal sealed class StandardErrorLogger : ILogger, ILoggerProvider, ILoggerFactory
{
    private readonly TextWriter _writer;
    private readonly object _writeLock = new();
    private readonly ConcurrentDictionary<string, bool> _seen = new(StringComparer.Ordinal); // kind -> further ones were announced as not shown

    /// <summary>A logger writing to <paramref name="writer"/> (<see cref="Console.Error"/> when <see langword="null"/>).</summary>
    public StandardErrorLogger(TextWriter? writer = null)
    {
        _writer = writer ?? Console.Error;
    }

    /// <summary>The logger for the tracker's options, or <see langword="null"/> when it is off or a factory is given.</summary>
    public static StandardErrorLogger? For(MlflowTrackerOptions options)
        => options.LoggerFactory is null && options.WarningsToStandardError ? new StandardErrorLogger(options.StandardError) : null;

    /// <inheritdoc/>
    public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Warning && logLevel != LogLevel.None;

    /// <inheritdoc/>
    public IDisposable? BeginScope<TState>(TState state)
        where TState : notnull => null;

    /// <inheritdoc/>
    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        ArgumentNullException.ThrowIfNull(formatter);
        if (!IsEnabled(logLevel))
        {
            return;
        }

        var message = formatter(state, exception);
        if (exception is not null)
        {
            message += " (" + exception.GetType().Name + ": " + exception.Message + ")";
        }

        // A kind is the event id (every message of the SDK has one); a message without one is its own kind.
        var kind = eventId.Id != 0 ? eventId.Id.ToString(System.Globalization.CultureInfo.InvariantCulture) : message;
        string line;
        if (_seen.TryAdd(kind, false))
        {
            line = "Mlflow.Client " + (logLevel >= LogLevel.Error ? "error: " : "warning: ") + OneLine(message);
        }
        else if (eventId.Id != 0 && _seen.TryUpdate(kind, true, false))
        {
            line = $"Mlflow.Client: further messages of event {eventId.Id} are not repeated here (give MlflowTrackerOptions.LoggerFactory a logger to see every one).";
        }
        else
        {
            return;
        }

        lock (_writeLock)
        {
            try
            {
                _writer.WriteLine(line);
                _writer.Flush();
            }
#pragma warning disable CA1031 // a closed or broken standard error must not fail the tracker
            catch (Exception)
#pragma warning restore CA1031
            {
            }
        }
    }

    /// <inheritdoc/>
    public ILogger CreateLogger(string categoryName) => this;

    /// <inheritdoc/>
    public void AddProvider(ILoggerProvider provider)
    {
    }

    /// <inheritdoc/>
    public void Dispose()
    {
    }

    private static string OneLine(string message) => message.ReplaceLineEndings(" ");
}
