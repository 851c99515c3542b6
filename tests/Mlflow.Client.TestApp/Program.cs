using System.Runtime.InteropServices;
using Mlflow.Client;

// A tiny console app for process-exit tests: logs to the tracking URI given as first argument (a server, or a path for
// a local store), prints "READY <run id>" with its 50 points still queued, then
//   "exit"   returns from Main without disposing anything (AppDomain.ProcessExit must end the run), or
//   "signal" waits (at most 60 s, then exits with 3) for SIGINT, SIGTERM or SIGHUP (the tracker's hooks must end the run), or
//   "hosted" does what the generic host's lifetime does: a SIGTERM handler registered before the tracker cancels the signal
//            and stops the app, which prints "STOPPED open" or "STOPPED ended" (could it still log to its run?) and
//            returns 4 without disposing anything.
//   "offline-kill" logs to an unreachable server (offline; the local store comes from MLFLOW_DOTNET_OFFLINE_DIR), and
//            after each FlushAsync prints "DURABLE <run id> <points>" until it is killed (at most 60 s).
//   "end-offline" (third argument: the experiment name) logs 300 points to a server that answers and prints
//            "READY <run id>"; on a line on standard input (the server was stopped meanwhile) it logs 100 more points,
//            ends the run with MLflow's retry defaults (the end budget runs out), waits until every point is sent or
//            kept in the local store (MLFLOW_DOTNET_OFFLINE_DIR), prints "ENDED <status>" and waits to be killed
//            (at most 120 s) without disposing the tracker.
//   "drain-kill" logs 100 points to a server that answers, prints "ONLINE <run id>"; on a line on standard input (the
//            server was stopped) logs 100 more and prints "OFFLINE <is offline>"; on a second line (the server is back
//            but hangs) logs on, printing "DURABLE <points> <is offline>" after each FlushAsync, until it is killed (at most 60 s).
//            An optional third argument paces it: milliseconds to sleep after each flush of 200 points.
//   "burst" logs a burst faster than the server takes it and ends the run, exits, or is signalled or killed: see BurstMode.
// Points are only sent at shutdown: the flush interval is one hour.
if (args.Length >= 6 && args[1] == "burst")
{
    return await BurstMode.RunAsync(args[0], int.Parse(args[2], System.Globalization.CultureInfo.InvariantCulture), int.Parse(args[3], System.Globalization.CultureInfo.InvariantCulture), args[4], args[5]);
}

if (args.Length >= 2 && args[1] == "offline-kill")
{
    return OfflineKill(args[0]);
}

if (args.Length >= 2 && args[1] == "drain-kill")
{
    return DrainKill(args[0], args.Length >= 3 ? int.Parse(args[2], System.Globalization.CultureInfo.InvariantCulture) : 0);
}

if (args.Length >= 3 && args[1] == "end-offline")
{
    return EndOffline(args[0], args[2]);
}

if (args.Length < 2)
{
    Console.Error.WriteLine("usage: Mlflow.Client.TestApp <tracking-uri> exit|signal|hosted|offline-kill|end-offline <experiment>");
    return 2;
}

using var stopping = new ManualResetEventSlim();
using var hostLifetime = args[1] == "hosted" ? PosixSignalRegistration.Create(PosixSignal.SIGTERM, context =>
{
    context.Cancel = true;
    stopping.Set();
}) : null;
var options = new MlflowTrackerOptions { TrackingUri = args[0], ExperimentId = "0" };
options.Batching.FlushInterval = TimeSpan.FromHours(1);
options.Batching.ShutdownTimeout = TimeSpan.FromSeconds(10);
Console.Error.WriteLine($"{DateTime.UtcNow:HH:mm:ss.fff} create");
var tracker = MlflowTracker.Create(options);
Console.Error.WriteLine($"{DateTime.UtcNow:HH:mm:ss.fff} start");
var run = tracker.StartRun("child-process");
for (var i = 0; i < 50; i++)
{
    run.LogMetric("loss", 1.0 / (i + 1), i);
}

Console.Error.WriteLine($"{DateTime.UtcNow:HH:mm:ss.fff} ready");
Console.WriteLine($"READY {run.RunId}");
Console.Out.Flush();
if (args[1] == "signal")
{
    Thread.Sleep(TimeSpan.FromSeconds(60));
    return 3;
}

if (args[1] == "hosted")
{
    if (!stopping.Wait(TimeSpan.FromSeconds(60)))
    {
        return 3;
    }

    try
    {
        run.LogMetric("after-stop", 1, 0);
        Console.WriteLine("STOPPED open");
    }
    catch (InvalidOperationException)
    {
        Console.WriteLine("STOPPED ended");
    }

    return 4;
}

return 0;

static int OfflineKill(string uri)
{
    var options = new MlflowTrackerOptions { TrackingUri = uri, ExperimentName = "kill-exp" };
    options.Client.Retry.MaxRetries = 0;
    options.Offline.DurableWriteInterval = TimeSpan.FromMilliseconds(100);
    var tracker = MlflowTracker.Create(options);
    var run = tracker.StartRun("killed");
    run.LogParam("mode", "offline-kill");
    // Offline too (the server is down for the child's whole life): the deletion must survive the kill on disk.
    run.SetTag("doomed", "x");
    run.DeleteTag("doomed");
    run.SetTag("kept", "y");
    var deadline = DateTime.UtcNow.AddSeconds(60);
    for (var i = 0; DateTime.UtcNow < deadline; i++)
    {
        run.LogMetric("loss", 1.0 / (i + 1), i);
        if (i % 200 == 199)
        {
            run.FlushAsync().GetAwaiter().GetResult();
            Console.WriteLine($"DURABLE {run.RunId} {i + 1}");
            Console.Out.Flush();
        }
    }

    return 3;
}

static int DrainKill(string uri, int paceMilliseconds)
{
    var options = new MlflowTrackerOptions { TrackingUri = uri, ExperimentName = "drain-kill-exp" };
    options.Client.Retry.MaxRetries = 0;
    options.Batching.FlushInterval = TimeSpan.FromMilliseconds(50);
    options.Offline.DurableWriteInterval = TimeSpan.FromMilliseconds(100);
    options.Offline.ReconnectInterval = TimeSpan.FromMilliseconds(100);
    options.Offline.OfflineAfter = TimeSpan.FromSeconds(60); // a drain to the hung server waits the whole test
    var tracker = MlflowTracker.Create(options);
    var run = tracker.StartRun("drain-killed");
    var i = 0;
    for (; i < 100; i++)
    {
        run.LogMetric("loss", 1.0 / (i + 1), i);
    }

    run.FlushAsync().GetAwaiter().GetResult();
    Console.WriteLine($"ONLINE {run.RunId}");
    Console.Out.Flush();
    if (Console.ReadLine() is null)
    {
        return 2;
    }

    for (; i < 200; i++)
    {
        run.LogMetric("loss", 1.0 / (i + 1), i);
    }

    run.FlushAsync().GetAwaiter().GetResult();
    Console.WriteLine($"OFFLINE {run.IsOffline}");
    Console.Out.Flush();
    if (Console.ReadLine() is null)
    {
        return 2;
    }

    var deadline = DateTime.UtcNow.AddSeconds(60);
    for (; DateTime.UtcNow < deadline; i++)
    {
        run.LogMetric("loss", 1.0 / (i + 1), i);
        if (i % 200 == 199)
        {
            run.FlushAsync().GetAwaiter().GetResult();
            Console.WriteLine($"DURABLE {i + 1} {run.IsOffline}");
            Console.Out.Flush();
            if (paceMilliseconds > 0)
            {
                Thread.Sleep(paceMilliseconds);
            }
        }
    }

    return 3;
}

static int EndOffline(string uri, string experiment)
{
    var options = new MlflowTrackerOptions { TrackingUri = uri, ExperimentName = experiment };
    options.Batching.FlushInterval = TimeSpan.FromMilliseconds(100);
    options.Batching.ShutdownTimeout = TimeSpan.FromSeconds(3);
    options.Offline.OfflineAfter = TimeSpan.FromSeconds(5);
    var tracker = MlflowTracker.Create(options);
    var run = tracker.StartRun("ends-offline");
    for (var i = 0; i < 300; i++)
    {
        run.LogMetric("loss", 1.0 / (i + 1), i);
    }

    run.FlushAsync().GetAwaiter().GetResult();
    Console.WriteLine($"READY {run.RunId}");
    Console.Out.Flush();
    if (Console.ReadLine() is null)
    {
        return 2;
    }

    for (var i = 300; i < 400; i++)
    {
        run.LogMetric("loss", 1.0 / (i + 1), i);
    }

    run.End();
    // The batch still in its retries goes to the local store after OfflineAfter: the kill must not take it.
    var kept = tracker.FlushAsync(TimeSpan.FromSeconds(60)).GetAwaiter().GetResult();
    Console.WriteLine($"ENDED {run.Status} {kept}");
    Console.Out.Flush();
    Thread.Sleep(TimeSpan.FromSeconds(120));
    return 3;
}
