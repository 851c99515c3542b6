using System.Diagnostics;
using Mlflow.Client.Tests.Infrastructure;
using Mlflow.Client.Tests.Sync;
using NUnit.Framework;

#if NET10_0_OR_GREATER // packed and installed once per test run, by the net10.0 test host
namespace Mlflow.Client.Tests.Packaging;

/// <summary>
/// Packs the library, installs the <c>.nupkg</c> from a local folder into a fresh console project (a package reference,
/// no project reference) and runs it against the local store and a fake server on loopback: a packaging mistake (a
/// missing dependency, an asset in the wrong folder, an internal type the public API needs) fails here.
/// </summary>
[TestFixture]
[Category("Packaging")]
[NonParallelizable]
public sealed class PackedPackageTests
{
    private static readonly TimeSpan StepTimeout = TimeSpan.FromMinutes(15);

    private const string ConsumerProgram = """
        using Mlflow.Client;

        var storeDir = Environment.GetEnvironmentVariable("PACKTEST_STORE")!;
        var serverUrl = Environment.GetEnvironmentVariable("PACKTEST_SERVER")!;
        foreach (var uri in new[] { storeDir, serverUrl })
        {
            await using var tracker = MlflowTracker.Create(new MlflowTrackerOptions { TrackingUri = uri, ExperimentName = "packaged" });
            await using (var run = await tracker.StartRunAsync("from-the-package"))
            {
                run.LogParam("source", "nupkg");
                run.LogMetric("accuracy", 0.75, step: 2);
                Console.WriteLine($"run {run.RunId} on {tracker.Destination}");
            }
        }
        """;

    [Test]
    public async Task The_packed_library_installs_from_a_folder_and_logs_to_a_local_store_and_a_server()
    {
        var work = Directory.CreateTempSubdirectory("mlflow-packtest-").FullName;
        try
        {
            var feed = Path.Combine(work, "feed");
            var version = "0.0.0-packtest." + DateTime.UtcNow.ToString("yyyyMMddHHmmssfff", System.Globalization.CultureInfo.InvariantCulture);
            var library = Path.Combine(RepoPaths.RepoRoot, "src", "Mlflow.Client", "Mlflow.Client.csproj");
            await RunAsync(RepoPaths.RepoRoot, null, "pack", library, "-c", "Release", "-o", feed, "-p:Version=" + version);
            Assert.That(File.Exists(Path.Combine(feed, $"Mlflow.Client.{version}.nupkg")), "the package");
            Assert.That(File.Exists(Path.Combine(feed, $"Mlflow.Client.{version}.snupkg")), "the symbols package");

            var app = Path.Combine(work, "consumer");
            Directory.CreateDirectory(app);
            // Stop MSBuild's upward search for Directory.*.props (a temp folder may sit under anything).
            await File.WriteAllTextAsync(Path.Combine(app, "Directory.Build.props"), "<Project />");
            await File.WriteAllTextAsync(Path.Combine(app, "Directory.Packages.props"), "<Project />");
            await File.WriteAllTextAsync(Path.Combine(app, "Directory.Build.targets"), "<Project />");
            await File.WriteAllTextAsync(Path.Combine(app, "consumer.csproj"), $"""
                <Project Sdk="Microsoft.NET.Sdk">
                  <PropertyGroup>
                    <OutputType>Exe</OutputType>
                    <TargetFramework>net10.0</TargetFramework>
                    <ImplicitUsings>enable</ImplicitUsings>
                    <Nullable>enable</Nullable>
                    <RestoreAdditionalProjectSources>{feed}</RestoreAdditionalProjectSources>
                    <RestorePackagesPath>{Path.Combine(work, "packages")}</RestorePackagesPath>
                    <RestoreAdditionalProjectFallbackFolders>{GlobalPackagesFolder()}</RestoreAdditionalProjectFallbackFolders>
                  </PropertyGroup>
                  <ItemGroup>
                    <PackageReference Include="Mlflow.Client" Version="{version}" />
                  </ItemGroup>
                </Project>
                """);
            await File.WriteAllTextAsync(Path.Combine(app, "Program.cs"), ConsumerProgram);

            using var server = new FakeMlflowServer();
            var store = Path.Combine(work, "mlruns");
            var output = await RunAsync(app, new Dictionary<string, string> { ["PACKTEST_STORE"] = store, ["PACKTEST_SERVER"] = server.Url }, "run", "--project", app);

            // The local store: one run of experiment "packaged" with the param and the metric, in MLflow's layout.
            var metricFiles = Directory.GetFiles(store, "accuracy", SearchOption.AllDirectories);
            Assert.That(metricFiles, Has.Length.EqualTo(1), output);
            Assert.That((await File.ReadAllTextAsync(metricFiles[0])).Trim(), Does.EndWith(" 0.75 2"));
            var paramFile = Path.Combine(Path.GetDirectoryName(Path.GetDirectoryName(metricFiles[0]))!, "params", "source");
            Assert.That(await File.ReadAllTextAsync(paramFile), Is.EqualTo("nupkg"));

            // The server: the same run, ended.
            var run = server.SingleRun();
            Assert.That(run.Params["source"], Is.EqualTo("nupkg"));
            Assert.That(run.Metrics["accuracy"].Single().Value, Is.EqualTo(0.75));
            Assert.That(run.Status, Is.EqualTo("FINISHED"));
            Assert.That(output, Does.Contain("run " + run.RunId));
        }
        finally
        {
            try
            {
                Directory.Delete(work, recursive: true);
            }
            catch (IOException)
            {
                // a build server may still hold a file; the temp folder is cleaned by the OS
            }
        }
    }

    private static string GlobalPackagesFolder()
        => Environment.GetEnvironmentVariable("NUGET_PACKAGES") is { Length: > 0 } set
            ? set
            : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");

    internal static async Task<string> RunAsync(string workingDirectory, Dictionary<string, string>? environment, params string[] args)
    {
        var start = new ProcessStartInfo("dotnet") { WorkingDirectory = workingDirectory, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        start.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        start.Environment["DOTNET_NOLOGO"] = "1";
        start.Environment["MSBUILDDISABLENODEREUSE"] = "1"; // no build server left running after the test
        start.Environment.Remove("MLFLOW_TRACKING_URI");
        foreach (var (key, value) in environment ?? [])
        {
            start.Environment[key] = value;
        }

        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(StepTimeout);
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            Assert.Fail($"dotnet {string.Join(' ', args)} took more than {StepTimeout}");
        }

        var output = await stdout + await stderr;
        Assert.That(process.ExitCode, Is.Zero, $"dotnet {string.Join(' ', args)} failed:\n{output}");
        return output;
    }
}
#endif
