using System.Globalization;

namespace Mlflow.Client.Benchmarks.Ceiling;

/// <summary>The arguments of the <c>ceiling</c> run.</summary>
/// <param name="Uri">The tracking server (<c>--uri</c>, else <c>MLFLOW_TRACKING_URI</c>).</param>
/// <param name="Points">Metric points per configuration (<c>--points</c>, default 100,000; rounded up to whole 1000-point batches per run).</param>
/// <param name="Rounds">How many times every configuration is measured (<c>--rounds</c>, default 1).</param>
/// <param name="Experiment">The experiment logged to (<c>--experiment</c>, default <c>dotnet-bench-ceiling</c>).</param>
/// <param name="Timeout">The most one configuration may take, delivery and read-back included (<c>--timeout</c> seconds, default 600).</param>
/// <param name="Label">A name for the backend, repeated on every machine-readable line (<c>--label</c>, default <c>server</c>).</param>
/// <param name="SyncPoints">Points of the local run mlflow-sync pushes (<c>--sync-points</c>, default <paramref name="Points"/>).</param>
/// <param name="Figures">The configurations measured (<c>--figures a,b</c>, default all), to repeat a few in more rounds.</param>
/// <param name="Bracket">
/// <c>--bracket</c>: each tracker and sync figure is also set against a raw 2-connection ceiling of the same points measured
/// right before it and right after it, so its ratio does not depend on how far the server's rate drifted since the
/// round's own ceiling (sqlite moved 17,900-24,900 points/s within minutes, postgres slows after a million-point load).
/// </param>
/// <param name="WarmUp">
/// Whether every configuration first runs once untimed on a few points (default; <c>--no-warmup</c> measures a cold
/// process): the first tracker figure of a process otherwise pays the JIT, 1.1-1.5 s of client CPU against 0.4-0.6 s in
/// later rounds, taken from the 2 cores the server needs.
/// </param>
/// <param name="StampRate">
/// Points per millisecond in the raw ceilings' timestamps (<c>--stamp-rate</c>, default 10,000, as a logging loop at full
/// speed stamps them and as the tracker and a synced local run send them). At 1 a millisecond a 1,000,000-point body
/// set is stamped up to 1,000 s ahead of the clock, and on PostgreSQL every later figure stamped at the current time then
/// inserts into the middle of the metrics table's key index instead of at its end: mlflow-sync measured 0.820-0.924 of
/// the raw 1,000,000-point ceiling that way (6 rounds), 0.892-0.941 with both stamped alike (3 rounds; fresh servers).
/// </param>
internal sealed record CeilingSettings(string Uri, long Points, int Rounds, string Experiment, TimeSpan Timeout, string Label, long SyncPoints, IReadOnlySet<string>? Figures = null, bool Bracket = false, bool WarmUp = true, int StampRate = 10_000)
{
    /// <summary>Whether <paramref name="figure"/> is measured in this run.</summary>
    public bool Measures(string figure) => Figures is null || Figures.Contains(figure);

    /// <summary>Points in one log-batch body: the server's limit and the tracker's default batch.</summary>
    internal const int BatchPoints = 1000;

    /// <summary>The one metric key every configuration logs, as a training loop's loss.</summary>
    internal const string MetricKey = "loss";

    /// <summary>Points of each configuration's untimed warm-up.</summary>
    internal const long WarmUpPoints = 20_000;

    /// <summary>Most runs in one configuration (tracker with 4 runs); points are whole batches for each.</summary>
    private const int MostRuns = 4;

    internal const string Usage =
        "ceiling [--uri http://127.0.0.1:5000] [--points 100000] [--sync-points 1000000] [--rounds 1] [--experiment NAME] [--timeout 600] [--label sqlite] [--figures ceiling.2conn,tracker.4runs] [--bracket] [--no-warmup] [--stamp-rate 10000]";

    public static CeilingSettings Parse(string[] args)
    {
        string? uri = null;
        long points = 100_000;
        var rounds = 1;
        var experiment = "dotnet-bench-ceiling";
        var timeoutSeconds = 600.0;
        var label = "server";
        long? syncPoints = null;
        HashSet<string>? figures = null;
        var bracket = false;
        var warmUp = true;
        var stampRate = 10_000;
        for (var i = 0; i < args.Length; i++)
        {
            var name = args[i];
            if (name == "--bracket")
            {
                bracket = true;
                continue;
            }

            if (name == "--no-warmup")
            {
                warmUp = false;
                continue;
            }

            if (i + 1 >= args.Length)
            {
                throw new ArgumentException($"{name} needs a value. Usage: {Usage}");
            }

            var value = args[++i];
            switch (name)
            {
                case "--uri": uri = value; break;
                case "--points": points = long.Parse(value, CultureInfo.InvariantCulture); break;
                case "--rounds": rounds = int.Parse(value, CultureInfo.InvariantCulture); break;
                case "--experiment": experiment = value; break;
                case "--timeout": timeoutSeconds = double.Parse(value, CultureInfo.InvariantCulture); break;
                case "--label": label = value; break;
                case "--stamp-rate": stampRate = int.Parse(value, CultureInfo.InvariantCulture); break;
                case "--sync-points": syncPoints = long.Parse(value, CultureInfo.InvariantCulture); break;
                case "--figures": figures = new HashSet<string>(value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries), StringComparer.Ordinal); break;
                default: throw new ArgumentException($"Unknown argument {name}. Usage: {Usage}");
            }
        }

        uri ??= Environment.GetEnvironmentVariable("MLFLOW_TRACKING_URI");
        if (string.IsNullOrWhiteSpace(uri) || !(uri.StartsWith("http://", StringComparison.OrdinalIgnoreCase) || uri.StartsWith("https://", StringComparison.OrdinalIgnoreCase)))
        {
            throw new ArgumentException($"Give an http(s) tracking server with --uri or MLFLOW_TRACKING_URI. Usage: {Usage}");
        }

        if (points < 1 || rounds is < 1 or > 10 || timeoutSeconds <= 0 || stampRate < 1)
        {
            throw new ArgumentException($"--points, --timeout and --stamp-rate must be positive and --rounds 1 to 10. Usage: {Usage}");
        }

        const long unit = (long)BatchPoints * MostRuns;
        points = (points + unit - 1) / unit * unit;
        return new CeilingSettings(uri.TrimEnd('/'), points, rounds, experiment, TimeSpan.FromSeconds(timeoutSeconds), label, syncPoints is > 0 ? syncPoints.Value : points, figures, bracket, warmUp, stampRate);
    }
}
