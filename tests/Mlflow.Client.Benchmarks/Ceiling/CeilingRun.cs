using System.Globalization;

namespace Mlflow.Client.Benchmarks.Ceiling;

/// <summary>
/// How close the tracker gets to what a real MLflow server can take, in one run against that server:
/// the server's ceiling (pre-serialized 1000-point log-batch bodies on 1 and 2 connections), then the tracker with 1 run
/// and with 4 runs logging from 4 threads, the same number of points each, then mlflow-sync of one local run holding that
/// many points (<c>--sync-points</c>, with the 2-connection ceiling measured again at that size: a server's rate falls
/// as one run's history grows), and their ratios. Every configuration logs to
/// fresh runs and reads them back (history count and latest step) to show nothing was lost. With several rounds, even
/// rounds measure the configurations in reverse order. Before the rounds every configuration runs once untimed
/// (<c>--no-warmup</c> skips it); with 3 rounds or more the table adds the median of each figure and the ratios of the medians.
///   dotnet run -c Release --project tests/Mlflow.Client.Benchmarks -- ceiling [--uri URI] [--points 100000] [--rounds 2] [--label sqlite]
/// </summary>
internal static class CeilingRun
{
    private static readonly (string Figure, string Title)[] Figures =
    [
        ("ceiling.1conn", "server ceiling: raw log-batch, 1 connection, 1 run"),
        ("ceiling.2conn", "server ceiling: raw log-batch, 2 connections, 1 run"),
        ("ceiling.2conn.2runs", "server ceiling: raw log-batch, 2 connections, 2 runs"),
        ("ceiling.2conn.4runs", "server ceiling: raw log-batch, 2 connections, 4 runs"),
        ("ceiling.2conn.1perms", "server ceiling: 2 conn, 1 point a millisecond"),
        ("tracker.1run", "tracker: 1 run, 1 thread"),
        ("tracker.4runs", "tracker: 4 runs, 4 threads"),
        ("ceiling.2conn.syncsize", "server ceiling: raw log-batch, 2 conn, sync's points"),
        ("sync.1run", "mlflow-sync: 1 local run"),
    ];

    private static readonly (string Figure, string Numerator, string Denominator, string Note)[] Ratios =
    [
        ("ratio.tracker1run/ceiling2conn", "tracker.1run", "ceiling.2conn", "target >= 0.9"),
        ("ratio.tracker4runs/ceiling2conn", "tracker.4runs", "ceiling.2conn", "target >= 0.9"),
        ("ratio.sync1run/ceiling2conn", "sync.1run", "ceiling.2conn", "target >= 0.9"),
        ("ratio.sync1run/ceiling2connsyncsize", "sync.1run", "ceiling.2conn.syncsize", "same points in one run"),
        ("ratio.tracker1run/ceiling1conn", "tracker.1run", "ceiling.1conn", ""),
        ("ratio.tracker4runs/ceiling2conn2runs", "tracker.4runs", "ceiling.2conn.2runs", ""),
        ("ratio.tracker4runs/ceiling2conn4runs", "tracker.4runs", "ceiling.2conn.4runs", "same 4 runs"),
    ];

    public static async Task RunAsync(string[] args)
    {
        CeilingSettings settings;
        try
        {
            settings = CeilingSettings.Parse(args);
        }
        catch (Exception ex) when (ex is ArgumentException or FormatException or OverflowException)
        {
            Console.Error.WriteLine(ex.Message);
            Environment.ExitCode = 2;
            return;
        }

        using var client = new MlflowClient(new MlflowClientOptions { TrackingUri = settings.Uri, RequestTimeout = TimeSpan.FromSeconds(900) }); // the read-back of a 1,000,000-point history is one request (MLflow 2.x does not page it)
        var experiment = await client.GetExperimentByNameAsync(settings.Experiment);
        var experimentId = experiment?.ExperimentId ?? await client.CreateExperimentAsync(settings.Experiment);
        PrintHeader(settings, experimentId);

        if (settings.WarmUp)
        {
            await WarmUpAsync(settings, client, experimentId);
        }

        var rounds = new List<Dictionary<string, Measurement>>();
        var bracketed = new List<string>();
        for (var round = 1; round <= settings.Rounds; round++)
        {
            var results = new Dictionary<string, Measurement>(StringComparer.Ordinal);
            rounds.Add(results);
            // Even rounds go in reverse order, so no configuration always runs first (or right after the tracker).
            foreach (var (figure, _) in (round % 2 == 1 ? Figures : Figures.Reverse()).Where(f => settings.Measures(f.Figure)))
            {
                var bracket = settings.Bracket && !figure.StartsWith("ceiling.", StringComparison.Ordinal);
                var points = PointsOf(settings, figure);
                var before = bracket ? await MeasureAndPrintAsync(round, figure + ".before", points, () => RawLogBatchCeiling.MeasureAsync(settings, client, experimentId, figure + ".before", points, connections: 2, runs: 1)) : null;
                var m = results[figure] = await MeasureAndPrintAsync(round, figure, points, () => MeasureAsync(settings, client, experimentId, figure));
                if (bracket)
                {
                    var after = await MeasureAndPrintAsync(round, figure + ".after", points, () => RawLogBatchCeiling.MeasureAsync(settings, client, experimentId, figure + ".after", points, connections: 2, runs: 1));
                    var ratio = m.PointsPerSecond / ((before!.PointsPerSecond + after.PointsPerSecond) / 2);
                    bracketed.Add(Invariant($"ceiling-result label={settings.Label} round={round} figure=bracketed.{figure} value={ratio:F3} ceiling_before={before.PointsPerSecond:F0} ceiling_after={after.PointsPerSecond:F0} points_per_s={m.PointsPerSecond:F0}"));
                    Console.WriteLine(Invariant($"round {round} {figure}: {ratio:F3} of the mean of the raw 2-connection ceilings of {points:N0} points right before ({before.PointsPerSecond:N0}) and right after ({after.PointsPerSecond:N0})"));
                }
            }
        }

        PrintTable(settings, rounds);
        bracketed.ForEach(Console.WriteLine);
        PrintMachineLines(settings, rounds);
    }

    /// <summary>
    /// Every configuration once on <see cref="CeilingSettings.WarmUpPoints"/> points, untimed (printed, not counted), so the
    /// rounds measure a process whose code is compiled, as BenchmarkDotNet's warm-up does.
    /// </summary>
    private static async Task WarmUpAsync(CeilingSettings settings, MlflowClient client, string experimentId)
    {
        var small = settings with { Points = Math.Min(settings.Points, CeilingSettings.WarmUpPoints), SyncPoints = Math.Min(settings.SyncPoints, CeilingSettings.WarmUpPoints) };
        foreach (var (figure, _) in Figures.Where(f => settings.Measures(f.Figure)))
        {
            await MeasureAndPrintAsync("warm-up (not counted)", figure, PointsOf(small, figure), () => MeasureAsync(small, client, experimentId, figure));
        }
    }

    /// <summary>The points a figure logs: the sync's million for the sync and its raw ceiling, else <see cref="CeilingSettings.Points"/>.</summary>
    private static long PointsOf(CeilingSettings settings, string figure) =>
        figure.StartsWith("sync.", StringComparison.Ordinal) || figure == "ceiling.2conn.syncsize" ? settings.SyncPoints : settings.Points;

    private static Task<Measurement> MeasureAndPrintAsync(int round, string figure, long points, Func<Task<Measurement>> measure) =>
        MeasureAndPrintAsync(Invariant($"round {round}"), figure, points, measure);

    private static async Task<Measurement> MeasureAndPrintAsync(string when, string figure, long points, Func<Task<Measurement>> measure)
    {
        Measurement m;
        try
        {
            m = await measure();
        }
        catch (Exception ex)
        {
            m = Measurement.Failed(figure, points, ex);
        }

        Console.WriteLine(m.Error is null
            ? Invariant($"{when} {figure}: {m.Points:N0} points in {m.Seconds:F2} s = {m.PointsPerSecond:N0} points/s; client CPU {m.ClientCpuSeconds:F2} s ({m.ClientCpuSeconds / m.Seconds:F2} cores, {m.ClientCpuSeconds * 1e6 / m.Points:F1} µs/point); read back: {m.ReadBack}")
            : $"{when} {figure}: FAILED {m.Error}");
        return m;
    }

    private static Task<Measurement> MeasureAsync(CeilingSettings settings, MlflowClient client, string experimentId, string figure) => figure switch
    {
        "ceiling.1conn" => RawLogBatchCeiling.MeasureAsync(settings, client, experimentId, figure, settings.Points, connections: 1, runs: 1),
        "ceiling.2conn" => RawLogBatchCeiling.MeasureAsync(settings, client, experimentId, figure, settings.Points, connections: 2, runs: 1),
        "ceiling.2conn.2runs" => RawLogBatchCeiling.MeasureAsync(settings, client, experimentId, figure, settings.Points, connections: 2, runs: 2),
        "ceiling.2conn.4runs" => RawLogBatchCeiling.MeasureAsync(settings, client, experimentId, figure, settings.Points, connections: 2, runs: 4),
        "ceiling.2conn.1perms" => RawLogBatchCeiling.MeasureAsync(settings, client, experimentId, figure, settings.Points, connections: 2, runs: 1, pointsPerMillisecond: 1),
        "ceiling.2conn.syncsize" => RawLogBatchCeiling.MeasureAsync(settings, client, experimentId, figure, settings.SyncPoints, connections: 2, runs: 1),
        "tracker.1run" => TrackerThroughput.MeasureAsync(settings, client, figure, runs: 1),
        "tracker.4runs" => TrackerThroughput.MeasureAsync(settings, client, figure, runs: 4),
        "sync.1run" => SyncThroughput.MeasureAsync(settings, client, figure),
        _ => throw new ArgumentOutOfRangeException(nameof(figure), figure, "unknown configuration"),
    };

    private static void PrintHeader(CeilingSettings settings, string experimentId)
    {
        var batching = TrackerThroughput.Options(settings).Batching;
        // Read by name: the option is being added separately; this run works with and without it.
        var concurrent = typeof(MlflowBatchingOptions).GetProperty("MaxConcurrentRequests")?.GetValue(batching);
        Console.WriteLine($"ceiling [{settings.Label}]: {settings.Uri}, experiment '{settings.Experiment}' ({experimentId}); {settings.Points:N0} points per configuration; {settings.Rounds} round(s); raw bodies stamped {settings.StampRate:N0} points a millisecond; {Environment.ProcessorCount} cores");
        Console.WriteLine($"tracker batching: MaxBatchEntries={batching.MaxBatchEntries}, FlushInterval={batching.FlushInterval.TotalSeconds} s, MaxQueueEntries={batching.MaxQueueEntries:N0}, QueueFullPolicy={batching.QueueFullPolicy}, MaxConcurrentRequests={concurrent?.ToString() ?? "(no such option in this build)"}");
        Console.WriteLine($"ceiling-config label={settings.Label} points={settings.Points} rounds={settings.Rounds} max_concurrent_requests={concurrent?.ToString() ?? "none"} max_batch_entries={batching.MaxBatchEntries}");
    }

    private static void PrintTable(CeilingSettings settings, List<Dictionary<string, Measurement>> rounds)
    {
        const int titleWidth = 56;
        Console.WriteLine();
        Console.WriteLine($"[{settings.Label}] {settings.Points:N0} points per configuration");
        var median = rounds.Count >= 3; // a figure of each kind over the rounds, so one slow minute of the server does not decide
        var header = "configuration".PadRight(titleWidth) + string.Concat(rounds.Select((_, i) => $"round {i + 1} points/s".PadLeft(20))) + (median ? "median points/s".PadLeft(20) : "") + "  read back complete";
        Console.WriteLine(header);
        Console.WriteLine(new string('-', header.Length));
        foreach (var (figure, title) in Figures.Where(f => settings.Measures(f.Figure)))
        {
            var cells = rounds.Select(r => (r[figure].Error is null ? Invariant($"{r[figure].PointsPerSecond:N0}") : "FAILED").PadLeft(20));
            var complete = rounds.All(r => r[figure].Complete) ? "yes" : "NO";
            var mid = median ? Invariant($"{Median(rounds, figure):N0}").PadLeft(20) : "";
            Console.WriteLine(title.PadRight(titleWidth) + string.Concat(cells) + mid + "  " + complete);
        }

        foreach (var (figure, numerator, denominator, note) in Ratios.Where(r => settings.Measures(r.Numerator) && settings.Measures(r.Denominator)))
        {
            var cells = rounds.Select(r => Invariant($"{Ratio(r, numerator, denominator):F3}").PadLeft(20));
            var mid = median ? Invariant($"{Median(rounds, numerator) / Median(rounds, denominator):F3}").PadLeft(20) : "";
            Console.WriteLine($"{numerator} / {denominator}".PadRight(titleWidth) + string.Concat(cells) + mid + (note.Length > 0 ? "  " + note : ""));
        }

        foreach (var (m, round) in rounds.SelectMany((r, i) => r.Values.Where(m => m.Error is not null || !m.Complete).Select(m => (m, i + 1))))
        {
            Console.WriteLine($"round {round} {m.Figure}: {m.Error ?? "read back incomplete: " + m.ReadBack}");
        }

        Console.WriteLine();
    }

    private static void PrintMachineLines(CeilingSettings settings, List<Dictionary<string, Measurement>> rounds)
    {
        for (var i = 0; i < rounds.Count; i++)
        {
            foreach (var (figure, _) in Figures.Where(f => settings.Measures(f.Figure)))
            {
                var m = rounds[i][figure];
                Console.WriteLine(Invariant($"ceiling-result label={settings.Label} round={i + 1} figure={figure} points={m.Points} seconds={m.Seconds:F3} points_per_s={m.PointsPerSecond:F0} client_cpu_s={m.ClientCpuSeconds:F3} complete={(m.Complete ? "true" : "false")}"));
            }

            foreach (var (figure, numerator, denominator, _) in Ratios.Where(r => settings.Measures(r.Numerator) && settings.Measures(r.Denominator)))
            {
                Console.WriteLine(Invariant($"ceiling-result label={settings.Label} round={i + 1} figure={figure} value={Ratio(rounds[i], numerator, denominator):F3}"));
            }
        }

        if (rounds.Count >= 3)
        {
            foreach (var (figure, numerator, denominator, _) in Ratios.Where(r => settings.Measures(r.Numerator) && settings.Measures(r.Denominator)))
            {
                Console.WriteLine(Invariant($"ceiling-result label={settings.Label} round=median figure={figure} value={Median(rounds, numerator) / Median(rounds, denominator):F3}"));
            }
        }
    }

    /// <summary>The median over the rounds of a figure's points per second (a failed round counts as 0).</summary>
    private static double Median(List<Dictionary<string, Measurement>> rounds, string figure)
    {
        var values = rounds.Select(r => r[figure].Error is null ? r[figure].PointsPerSecond : 0).Order().ToArray();
        return values.Length % 2 == 1 ? values[values.Length / 2] : (values[(values.Length / 2) - 1] + values[values.Length / 2]) / 2;
    }

    private static double Ratio(Dictionary<string, Measurement> round, string numerator, string denominator) =>
        round[numerator].PointsPerSecond / round[denominator].PointsPerSecond;

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
