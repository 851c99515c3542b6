using BenchmarkDotNet.Running;

// Runs the BenchmarkDotNet suites of this assembly, for example:
//   dotnet run -c Release --project tests/Mlflow.Client.Benchmarks -- --filter '*FileStore*'
// Console throughput runs (not BenchmarkDotNet) take a first argument naming them; see each class.
namespace Mlflow.Client.Benchmarks;

internal static class Program
{
    public static int Main(string[] args)
    {
        if (args.Length > 0 && ThroughputRuns.TryRun(args))
        {
            return 0;
        }

        BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
        return 0;
    }
}
