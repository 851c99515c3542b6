using System.Globalization;
using Mlflow.Client;
using Mlflow.Client.Sync;

namespace Mlflow.Client.SyncTool;

/// <summary>The <c>mlflow-sync</c> command: parses a few flags by hand, runs <see cref="MlflowSync"/>, prints progress and a summary.</summary>
internal static class Program
{
    internal const int ExitOk = 0;
    internal const int ExitIncomplete = 1;
    internal const int ExitUsage = 2;
    internal const int ExitCancelled = 130;

    private const string Usage = """
        mlflow-sync: push runs of a local MLflow store to a tracking server (safe to repeat and to interrupt).

        Usage: mlflow-sync [--from PATH|file:URI] [--to http(s)://host:port] [--experiment NAME] [--run RUN_ID] [--dry-run]

          --from PATH      the local store (default: MLFLOW_TRACKING_DIR, else ./mlruns)
          --to URI         the tracking server (default: MLFLOW_TRACKING_URI)
          --experiment N   only runs of the local experiment named N
          --run ID         only this run (and its parent runs)
          --dry-run        list what would be sent; nothing is sent
          -h, --help       this text

        Credentials come from MLFLOW_TRACKING_USERNAME/PASSWORD or MLFLOW_TRACKING_TOKEN; TLS from
        MLFLOW_TRACKING_INSECURE_TLS / MLFLOW_TRACKING_SERVER_CERT_PATH.
        Exit codes: 0 everything sent, 1 something was not sent, 2 bad usage, 130 cancelled.
        """;

    internal static async Task<int> Main(string[] args)
    {
        using var cts = new CancellationTokenSource();
        Console.CancelKeyPress += (_, e) =>
        {
            e.Cancel = true; // stop cleanly: what was acknowledged is kept, the next sync resumes
            cts.Cancel();
        };
        return await RunAsync(args, Console.Out, Console.Error, cts.Token).ConfigureAwait(false);
    }

    internal static async Task<int> RunAsync(string[] args, TextWriter stdout, TextWriter stderr, CancellationToken cancellationToken)
    {
        if (!TryParse(args, out var options, out var help, out var problem))
        {
            await stderr.WriteLineAsync("mlflow-sync: " + problem).ConfigureAwait(false);
            await stderr.WriteLineAsync(Usage).ConfigureAwait(false);
            return ExitUsage;
        }

        if (help)
        {
            await stdout.WriteLineAsync(Usage).ConfigureAwait(false);
            return ExitOk;
        }

        var printer = new ProgressPrinter(stdout);
        SyncSummary summary;
        try
        {
            summary = await MlflowSync.SyncAsync(options!, printer, cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            await stderr.WriteLineAsync("mlflow-sync: cancelled; what the server acknowledged is recorded, run again to send the rest.").ConfigureAwait(false);
            return ExitCancelled;
        }
        catch (Exception ex) when (ex is ArgumentException or DirectoryNotFoundException)
        {
            await stderr.WriteLineAsync("mlflow-sync: " + ex.Message).ConfigureAwait(false);
            return ExitUsage;
        }

        await PrintSummaryAsync(stdout, stderr, summary).ConfigureAwait(false);
        return summary.Complete ? ExitOk : ExitIncomplete;
    }

    internal static bool TryParse(string[] args, out SyncOptions? options, out bool help, out string? problem)
    {
        options = null;
        help = false;
        problem = null;
        string? from = null, to = null, experiment = null, run = null;
        var dryRun = false;
        for (var i = 0; i < args.Length; i++)
        {
            var arg = args[i];
            string? inline = null;
            if (arg.StartsWith("--", StringComparison.Ordinal) && arg.IndexOf('=', StringComparison.Ordinal) is var eq and > 2)
            {
                inline = arg[(eq + 1)..];
                arg = arg[..eq];
            }

            switch (arg)
            {
                case "-h" or "--help" or "-?":
                    help = true;
                    break;
                case "--dry-run":
                    if (inline is not null)
                    {
                        problem = "--dry-run takes no value.";
                        return false;
                    }

                    dryRun = true;
                    break;
                case "--from" or "--to" or "--experiment" or "--run":
                    var value = inline ?? (i + 1 < args.Length ? args[++i] : null);
                    if (string.IsNullOrWhiteSpace(value))
                    {
                        problem = $"{arg} needs a value.";
                        return false;
                    }

                    switch (arg)
                    {
                        case "--from": from = value; break;
                        case "--to": to = value; break;
                        case "--experiment": experiment = value; break;
                        default: run = value; break;
                    }

                    break;
                default:
                    problem = $"unknown argument '{arg}'.";
                    return false;
            }
        }

        options = new SyncOptions { From = from, To = to, ExperimentName = experiment, RunId = run, DryRun = dryRun };
        return true;
    }

    private static async Task PrintSummaryAsync(TextWriter stdout, TextWriter stderr, SyncSummary s)
    {
        var verb = s.DryRun ? "would send" : "sent";
        await stdout.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
            $"{(s.DryRun ? "Dry run: " : "")}{s.Runs.Count} runs: {s.RunsCreated} {(s.DryRun ? "to create" : "created")}, {s.RunsResumed} {(s.DryRun ? "to resume" : "resumed")}, {s.RunsUpToDate} up to date, {s.RunsFailed} failed; {verb} {s.ParamsSent} params, {s.TagsSent} tags, {s.MetricPointsSent} metric points, {s.ArtifactsSent} artifacts{(s.ArtifactsSkipped > 0 ? $" ({s.ArtifactsSkipped} artifacts skipped)" : "")}, {s.LoggedModelsSent} logged models, {s.TracesSent} traces, {s.AssessmentsSent} assessments{(s.TracesSkipped > 0 ? $" ({s.TracesSkipped} traces skipped)" : "")}.")).ConfigureAwait(false);
        foreach (var run in s.Runs.Where(r => r.ArtifactsSkippedReason is not null))
        {
            await stderr.WriteLineAsync($"run {run.LocalRunId}: {run.ArtifactsSkipped} artifacts skipped: {run.ArtifactsSkippedReason}").ConfigureAwait(false);
        }

        foreach (var run in s.Runs.Where(r => r.TracesSkippedReason is not null))
        {
            await stderr.WriteLineAsync($"run {run.LocalRunId}: {run.TracesSkipped} traces skipped: {run.TracesSkippedReason}").ConfigureAwait(false);
        }

        foreach (var error in s.Errors)
        {
            await stderr.WriteLineAsync("error: " + error).ConfigureAwait(false);
        }
    }

    /// <summary>Writes a line when a run starts and ends, and the metric and artifact counts at most every two seconds.</summary>
    private sealed class ProgressPrinter(TextWriter output) : IProgress<SyncProgress>
    {
        private static readonly TimeSpan Interval = TimeSpan.FromSeconds(2);
        private readonly object _gate = new();
        private DateTime _last = DateTime.MinValue;

        public void Report(SyncProgress value)
        {
            lock (_gate)
            {
                var prefix = string.Create(CultureInfo.InvariantCulture, $"[{value.RunIndex}/{value.RunCount}] {value.LocalRunId}{(value.RunName is { Length: > 0 } n ? " (" + n + ")" : "")}");
                switch (value.Phase)
                {
                    case SyncPhase.Starting:
                        output.WriteLine(prefix + ": starting");
                        _last = DateTime.UtcNow;
                        break;
                    case SyncPhase.Done or SyncPhase.Failed:
                        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                            $"{prefix}: {(value.Phase == SyncPhase.Done ? "done" : "FAILED")} ({value.MetricPointsDone}/{value.MetricPointsTotal} metric points, {value.ArtifactsDone} artifacts)"));
                        break;
                    default:
                        if (DateTime.UtcNow - _last >= Interval)
                        {
                            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                                $"{prefix}: {value.Phase.ToString().ToUpperInvariant()} {value.MetricPointsDone}/{value.MetricPointsTotal} metric points, {value.ArtifactsDone}/{value.ArtifactsTotal} artifacts"));
                            _last = DateTime.UtcNow;
                        }

                        break;
                }
            }
        }
    }
}
