namespace Mlflow.Client.Benchmarks;

/// <summary>Console throughput runs that are not BenchmarkDotNet suites (long end-to-end measurements), by name.</summary>
internal static partial class ThroughputRuns
{
    private static readonly Dictionary<string, Func<string[], Task>> Runs = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>Registers a run; each suite file adds its own in a static constructor of a partial part.</summary>
    internal static void Register(string name, Func<string[], Task> run) => Runs[name] = run;

    public static bool TryRun(string[] args)
    {
        RegisterAll();
        if (!Runs.TryGetValue(args[0], out var run))
        {
            return false;
        }

        run(args[1..]).GetAwaiter().GetResult();
        return true;
    }

    /// <summary>Implemented by the suite files (partial methods); each calls <see cref="Register"/>.</summary>
    static partial void RegisterFileStore();

    static partial void RegisterTracking();

    static partial void RegisterEndToEnd();

    private static void RegisterCeiling() => Register("ceiling", Ceiling.CeilingRun.RunAsync);

    private static void RegisterAll()
    {
        RegisterFileStore();
        RegisterTracking();
        RegisterEndToEnd();
        RegisterCeiling();
        Register("body", _ => { BodyProbe(); return Task.CompletedTask; });
    }
}
