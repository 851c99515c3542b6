using System.Runtime.InteropServices;

namespace Mlflow.Client;

/// <summary>
/// Every process hook of a tracker, in one place: <see cref="AppDomain.ProcessExit"/>, <see cref="Console.CancelKeyPress"/>
/// (Ctrl+C / SIGINT, Ctrl+Break / SIGQUIT) and, on Unix, SIGTERM and SIGHUP (what <c>docker stop</c>, Kubernetes, systemd
/// and CI runners send). Each calls the shutdown callback with a short reason; disposing removes them all.
/// </summary>
/// <remarks>
/// <para>No handler cancels its signal or exits the process: once the callback returned, .NET's default handling goes on.
/// For SIGINT, SIGTERM and SIGHUP that restores the default action and raises the signal again, so the process ends as
/// killed by it (exit status 128 + signal: 130, 143, 129), as it would have without the tracker. A signal ignored when
/// the process started (<c>nohup</c> ignores SIGHUP) stays ignored: .NET never calls a handler for it.</para>
/// <para>Other handlers of the same signal (the generic host's <c>ConsoleLifetime</c> and <c>SystemdLifetime</c> cancel
/// SIGTERM and SIGINT to stop the application gracefully) keep working: .NET calls the most recent registration first
/// and stops at the first that cancels, so whichever was registered last runs first. Ours never cancels, so a handler
/// registered before it still runs after the flush; one registered after it that cancels means ours does not run, and
/// <see cref="AppDomain.ProcessExit"/> ends what is left when the host returns from <c>Main</c>.</para>
/// <para>On Windows only ProcessExit and CancelKeyPress are hooked: there are no POSIX signals there, and .NET's stand-ins
/// for SIGTERM and SIGHUP (console close, logoff and shutdown events) are left to their default.</para>
/// </remarks>
internal sealed class ProcessShutdownHooks : IDisposable
{
    private readonly Action<string> _shutdown;
    private readonly PosixSignalRegistration[] _signals;
    private int _disposed;

    /// <summary>Hooks the process events; <paramref name="shutdown"/> must not throw and must bound its own wait.</summary>
    public ProcessShutdownHooks(Action<string> shutdown)
    {
        _shutdown = shutdown;
        AppDomain.CurrentDomain.ProcessExit += OnProcessExit;
        Console.CancelKeyPress += OnCancelKeyPress;
        _signals = RegisterTerminationSignals(OnTerminationSignal);
    }

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        AppDomain.CurrentDomain.ProcessExit -= OnProcessExit;
        Console.CancelKeyPress -= OnCancelKeyPress;
        foreach (var registration in _signals)
        {
            registration.Dispose(); // the last registration of a signal gone, .NET restores its original action
        }
    }

    private static PosixSignalRegistration[] RegisterTerminationSignals(Action<PosixSignalContext> handler)
    {
        if (!OperatingSystem.IsLinux() && !OperatingSystem.IsMacOS() && !OperatingSystem.IsFreeBSD())
        {
            return [];
        }

        var registrations = new List<PosixSignalRegistration>(2);
        try
        {
            registrations.Add(PosixSignalRegistration.Create(PosixSignal.SIGTERM, handler));
            registrations.Add(PosixSignalRegistration.Create(PosixSignal.SIGHUP, handler));
        }
        catch (Exception ex) when (ex is PlatformNotSupportedException or IOException)
        {
            // Signal handling could not be set up: tracking goes on, with ProcessExit and Ctrl+C hooked as before.
        }

        return [.. registrations];
    }

    private void OnProcessExit(object? sender, EventArgs e) => _shutdown("process exit");

    private void OnCancelKeyPress(object? sender, ConsoleCancelEventArgs e) => _shutdown(e.SpecialKey == ConsoleSpecialKey.ControlBreak ? "Ctrl+Break" : "Ctrl+C");

    // context.Cancel stays false: after the bounded flush the signal's default action ends the process (see remarks).
    private void OnTerminationSignal(PosixSignalContext context) => _shutdown(context.Signal == PosixSignal.SIGHUP ? "SIGHUP" : "SIGTERM");
}
