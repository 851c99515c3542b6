using System.Diagnostics;
using System.Text;
using Mlflow.Client.Tests.Infrastructure;
using NUnit.Framework;

namespace Mlflow.Client.Tests.Samples;

/// <summary>Runs a sample under samples/ from its build output (built with the tests, same configuration) and returns its exit code and output.</summary>
internal static class SampleProcess
{
    /// <summary>Longest a sample may run (ML.NET training on a loaded two-core machine included).</summary>
    public static readonly TimeSpan Timeout = TimeSpan.FromMinutes(4);

    /// <summary>
    /// Runs <paramref name="sample"/> with <paramref name="args"/> in <paramref name="workDir"/>; the environment has no
    /// MLflow variables of the test process except those in <paramref name="environment"/> (a null value removes one).
    /// </summary>
    public static async Task<(int ExitCode, string Output)> RunAsync(string sample, string workDir, IReadOnlyDictionary<string, string?> environment, params string[] args)
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false, WorkingDirectory = workDir };
        start.ArgumentList.Add(SamplePath(sample));
        foreach (var a in args)
        {
            start.ArgumentList.Add(a);
        }

        foreach (var key in start.Environment.Keys.Where(k => k.StartsWith("MLFLOW_", StringComparison.Ordinal)).ToList())
        {
            start.Environment.Remove(key);
        }

        foreach (var (key, value) in environment)
        {
            start.Environment[key] = value;
        }

        // Plain output, no colours or live redraws: Spectre.Console writes the final state of its tables and bars.
        start.Environment["NO_COLOR"] = "1";
        start.Environment["TERM"] = "dumb";
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var cts = new CancellationTokenSource(Timeout);
        try
        {
            await process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            Assert.Fail($"{sample} did not end within {Timeout}:\n{await stdout}\n{await stderr}");
        }

        var output = new StringBuilder(await stdout).Append(await stderr).ToString();
        TestContext.Progress.WriteLine($"--- {sample} {string.Join(' ', args)} (exit {process.ExitCode})\n{output}");
        return (process.ExitCode, output);
    }

    private static string SamplePath(string sample)
    {
        // Same configuration as this test assembly: .../tests/Mlflow.Client.Tests/bin/<Config>/net10.0/
        var config = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar)).Parent!.Name;
        var path = Path.Combine(RepoPaths.RepoRoot, "samples", sample, "bin", config, "net10.0", sample + ".dll");
        Assert.That(File.Exists(path), Is.True, path);
        return path;
    }
}
